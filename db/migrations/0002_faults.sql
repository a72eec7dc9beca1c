CREATE TABLE "faults" (
	"id" text PRIMARY KEY NOT NULL,
	"run_id" text,
	"type" text NOT NULL,
	"target" text NOT NULL,
	"params" jsonb NOT NULL,
	"undo" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"status" text DEFAULT 'applying' NOT NULL,
	"error" text,
	"applied_by" text,
	"applied_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone,
	"removed_at" timestamp with time zone,
	CONSTRAINT "faults_status_check" CHECK ("faults"."status" in ('applying','active','removed','failed'))
);
--> statement-breakpoint
CREATE INDEX "faults_open_idx" ON "faults" USING btree ("status") WHERE "faults"."removed_at" is null;--> statement-breakpoint
CREATE INDEX "faults_run_idx" ON "faults" USING btree ("run_id");