CREATE TABLE "experiments" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"description" text,
	"source_path" text,
	"source_text" text,
	"definition" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "reports" (
	"run_id" text PRIMARY KEY NOT NULL,
	"schema_version" integer NOT NULL,
	"report" jsonb NOT NULL,
	"dir" text,
	"files" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "run_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"run_id" text NOT NULL,
	"seq" integer NOT NULL,
	"t" timestamp with time zone DEFAULT now() NOT NULL,
	"type" text NOT NULL,
	"data" jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "runs" (
	"id" text PRIMARY KEY NOT NULL,
	"experiment_id" text,
	"experiment_name" text NOT NULL,
	"target" text NOT NULL,
	"state" text DEFAULT 'queued' NOT NULL,
	"reason" text,
	"trigger" text DEFAULT 'api' NOT NULL,
	"schedule_id" text,
	"suite_run_id" text,
	"definition" jsonb NOT NULL,
	"report_dir" text,
	"worker_id" text,
	"heartbeat_at" timestamp with time zone,
	"summary" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"steady_state_at" timestamp with time zone,
	"running_at" timestamp with time zone,
	"recovering_at" timestamp with time zone,
	"analysing_at" timestamp with time zone,
	"ended_at" timestamp with time zone,
	CONSTRAINT "runs_state_check" CHECK ("runs"."state" in ('queued','steady_state','running','recovering','analysing','passed','failed','aborted','errored'))
);
--> statement-breakpoint
CREATE TABLE "violations" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"run_id" text NOT NULL,
	"kind" text NOT NULL,
	"name" text NOT NULL,
	"message" text NOT NULL,
	"evidence" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "logs" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"time" timestamp with time zone NOT NULL,
	"level" text NOT NULL,
	"service" text NOT NULL,
	"instance" text NOT NULL,
	"msg" text NOT NULL,
	"request_id" text,
	"run_id" text,
	"fields" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"search" "tsvector" GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, coalesce(msg, '') || ' ' || coalesce(fields::text, ''))) STORED NOT NULL
);
--> statement-breakpoint
CREATE TABLE "metric_samples" (
	"series_id" integer NOT NULL,
	"t" timestamp with time zone NOT NULL,
	"value" double precision NOT NULL,
	CONSTRAINT "metric_samples_series_id_t_pk" PRIMARY KEY("series_id","t")
);
--> statement-breakpoint
CREATE TABLE "metric_series" (
	"id" serial PRIMARY KEY NOT NULL,
	"run_id" text NOT NULL,
	"service" text NOT NULL,
	"instance" text NOT NULL,
	"metric" text NOT NULL,
	"labels" jsonb NOT NULL,
	"label_key" text NOT NULL
);
--> statement-breakpoint
ALTER TABLE "reports" ADD CONSTRAINT "reports_run_id_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."runs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "run_events" ADD CONSTRAINT "run_events_run_id_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."runs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "runs" ADD CONSTRAINT "runs_experiment_id_experiments_id_fk" FOREIGN KEY ("experiment_id") REFERENCES "public"."experiments"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "violations" ADD CONSTRAINT "violations_run_id_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."runs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "metric_samples" ADD CONSTRAINT "metric_samples_series_id_metric_series_id_fk" FOREIGN KEY ("series_id") REFERENCES "public"."metric_series"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "metric_series" ADD CONSTRAINT "metric_series_run_id_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."runs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "run_events_run_seq_idx" ON "run_events" USING btree ("run_id","seq");--> statement-breakpoint
CREATE INDEX "runs_state_idx" ON "runs" USING btree ("state");--> statement-breakpoint
CREATE INDEX "runs_target_idx" ON "runs" USING btree ("target","created_at");--> statement-breakpoint
CREATE INDEX "runs_experiment_idx" ON "runs" USING btree ("experiment_id","created_at");--> statement-breakpoint
CREATE INDEX "runs_suite_idx" ON "runs" USING btree ("suite_run_id");--> statement-breakpoint
CREATE INDEX "violations_run_idx" ON "violations" USING btree ("run_id");--> statement-breakpoint
CREATE INDEX "logs_run_time_idx" ON "logs" USING btree ("run_id","time");--> statement-breakpoint
CREATE INDEX "logs_time_idx" ON "logs" USING btree ("time");--> statement-breakpoint
CREATE INDEX "logs_search_idx" ON "logs" USING gin ("search");--> statement-breakpoint
CREATE UNIQUE INDEX "metric_series_identity_idx" ON "metric_series" USING btree ("run_id","instance","metric","label_key");--> statement-breakpoint
CREATE INDEX "metric_series_metric_idx" ON "metric_series" USING btree ("run_id","metric");