/**
 * Cron schedules of experiments or suites (workers/schedules). Each enabled
 * schedule is mirrored by one BullMQ job scheduler keyed by the schedule id;
 * every firing leaves a row in `schedule_fires`, including the skipped ones
 * (another run was active on the target).
 */
import { sql } from 'drizzle-orm';
import { bigserial, boolean, check, index, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

const tz = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const SCHEDULE_TARGET_KINDS = ['experiment', 'suite'] as const;
export const SCHEDULE_FIRE_OUTCOMES = ['started', 'skipped', 'failed'] as const;

export const schedules = pgTable(
  'schedules',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    kind: text('kind', { enum: SCHEDULE_TARGET_KINDS }).notNull(),
    /** Experiment id, or the suite's name. */
    ref: text('ref').notNull(),
    /** 5- or 6-field cron expression (cron-parser syntax). */
    cron: text('cron').notNull(),
    /** IANA time zone the cron expression is read in. */
    timezone: text('timezone').notNull().default('UTC'),
    enabled: boolean('enabled').notNull().default(true),
    createdBy: text('created_by').notNull(),
    createdAt: tz('created_at').notNull().defaultNow(),
    updatedAt: tz('updated_at').notNull().defaultNow(),
  },
  (t) => [check('schedules_kind_check', sql`${t.kind} in ('experiment','suite')`)],
);

export const scheduleFires = pgTable(
  'schedule_fires',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    scheduleId: text('schedule_id')
      .notNull()
      .references(() => schedules.id, { onDelete: 'cascade' }),
    firedAt: tz('fired_at').notNull().defaultNow(),
    outcome: text('outcome', { enum: SCHEDULE_FIRE_OUTCOMES }).notNull(),
    /** Runs started by this firing (one for an experiment, several for a suite). */
    runIds: jsonb('run_ids')
      .$type<string[]>()
      .notNull()
      .default(sql`'[]'::jsonb`),
    /** Why it was skipped or failed (e.g. the run already active on the target). */
    reason: text('reason'),
    /** The BullMQ job id of the firing (dedupes a firing delivered twice). */
    jobId: text('job_id').unique(),
  },
  (t) => [index('schedule_fires_schedule_idx').on(t.scheduleId, t.firedAt)],
);
