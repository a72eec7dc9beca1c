CREATE TABLE "safety_lever" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"action" text NOT NULL,
	"by" text NOT NULL,
	"reason" text,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "safety_lever_action_check" CHECK ("safety_lever"."action" in ('engaged','released'))
);
