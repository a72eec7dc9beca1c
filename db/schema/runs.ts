/**
 * Runs and their results: experiments (the stored definitions), runs (one
 * execution each, with its lifecycle), run_events (typed progress, the same
 * events published on `faultline:run:<runId>`), reports and violations.
 *
 *   queued ─▶ steady_state ─▶ running ─▶ recovering ─▶ analysing ─▶ passed | failed
 *      │            │            │            │             │
 *      └────────────┴────────────┴────────────┴─────────────┴──▶ aborted | errored
 */
import { sql } from 'drizzle-orm';
import { bigserial, check, index, integer, jsonb, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { RUN_STATES } from './run-states.js';

export { RUN_STATES, TERMINAL_RUN_STATES, isTerminal, type TRunState } from './run-states.js';

/** Where a run was started from. */
export const RUN_TRIGGERS = ['cli', 'console', 'schedule', 'gate', 'api'] as const;
export type TRunTrigger = (typeof RUN_TRIGGERS)[number];

const tz = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/** An experiment definition as last saved (from a file, the console or the CLI). */
export const experiments = pgTable('experiments', {
  /** Stable id: the experiment's `name` from its file (unique). */
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  description: text('description'),
  /** The file it came from, when it came from one. */
  sourcePath: text('source_path'),
  /** The YAML text as written (kept so a report can show what ran). */
  sourceText: text('source_text'),
  /** The validated definition (experiments/ schema output). */
  definition: jsonb('definition').notNull(),
  createdAt: tz('created_at').notNull().defaultNow(),
  updatedAt: tz('updated_at').notNull().defaultNow(),
});

export const runs = pgTable(
  'runs',
  {
    id: text('id').primaryKey(),
    experimentId: text('experiment_id').references(() => experiments.id, { onDelete: 'set null' }),
    experimentName: text('experiment_name').notNull(),
    /** What the run holds exclusively (one run per target at a time), e.g. `shop`. */
    target: text('target').notNull(),
    state: text('state', { enum: RUN_STATES }).notNull().default('queued'),
    /** Why the run ended the way it did (abort condition, error message, failed checks). */
    reason: text('reason'),
    trigger: text('trigger', { enum: RUN_TRIGGERS }).notNull().default('api'),
    /** Set when a schedule started the run (workers/schedules). */
    scheduleId: text('schedule_id'),
    /** Set when the run belongs to a `gate` suite execution. */
    suiteRunId: text('suite_run_id'),
    /** The definition snapshot this run executes (never mutated afterwards). */
    definition: jsonb('definition').notNull(),
    /** Where the report files go. */
    reportDir: text('report_dir'),
    /** The worker process holding the run (hostname:pid:random). */
    workerId: text('worker_id'),
    /** Last liveness signal of the holder; stall detection compares against it. */
    heartbeatAt: tz('heartbeat_at'),
    /** Short verdict summary (counts of SLOs / expectations / invariants passed and failed). */
    summary: jsonb('summary'),
    createdAt: tz('created_at').notNull().defaultNow(),
    steadyStateAt: tz('steady_state_at'),
    runningAt: tz('running_at'),
    recoveringAt: tz('recovering_at'),
    analysingAt: tz('analysing_at'),
    endedAt: tz('ended_at'),
  },
  (t) => [
    index('runs_state_idx').on(t.state),
    index('runs_target_idx').on(t.target, t.createdAt),
    index('runs_experiment_idx').on(t.experimentId, t.createdAt),
    index('runs_suite_idx').on(t.suiteRunId),
    check('runs_state_check', sql`${t.state} in ('queued','steady_state','running','recovering','analysing','passed','failed','aborted','errored')`),
  ],
);

/** Typed progress events (workers/runner/events.ts is the union), in order per run. */
export const runEvents = pgTable(
  'run_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    runId: text('run_id')
      .notNull()
      .references(() => runs.id, { onDelete: 'cascade' }),
    seq: integer('seq').notNull(),
    t: tz('t').notNull().defaultNow(),
    type: text('type').notNull(),
    data: jsonb('data').notNull(),
  },
  (t) => [uniqueIndex('run_events_run_seq_idx').on(t.runId, t.seq)],
);

/** The report of a run (report.json content) and where its files were written. */
export const reports = pgTable('reports', {
  runId: text('run_id')
    .primaryKey()
    .references(() => runs.id, { onDelete: 'cascade' }),
  schemaVersion: integer('schema_version').notNull(),
  report: jsonb('report').notNull(),
  dir: text('dir'),
  /** File names written in `dir` (report.json, junit.xml, summary.md, report.html). */
  files: jsonb('files')
    .$type<string[]>()
    .notNull()
    .default(sql`'[]'::jsonb`),
  createdAt: tz('created_at').notNull().defaultNow(),
});

export const VIOLATION_KINDS = ['slo', 'breaker', 'consistency', 'history'] as const;

/** One failed check of a run, with its evidence (ids, rows, client events). */
export const violations = pgTable(
  'violations',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    runId: text('run_id')
      .notNull()
      .references(() => runs.id, { onDelete: 'cascade' }),
    kind: text('kind', { enum: VIOLATION_KINDS }).notNull(),
    /** Check name: SLO name, breaker expectation, invariant id. */
    name: text('name').notNull(),
    message: text('message').notNull(),
    evidence: jsonb('evidence')
      .notNull()
      .default(sql`'{}'::jsonb`),
    createdAt: tz('created_at').notNull().defaultNow(),
  },
  (t) => [index('violations_run_idx').on(t.runId)],
);
