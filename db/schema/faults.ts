/**
 * The fault ledger: every fault is written here before it is applied and
 * marked removed after, so a halt or a reconciler in another process can
 * undo what a crashed runner left behind.
 *
 *   applying ─▶ active ─▶ removed
 *      │          │  ▲
 *      └──────────┴──┴──▶ failed (apply or removal error; `error` says why,
 *                          removal is retried by the reconciler)
 */
import { sql } from 'drizzle-orm';
import { check, index, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

export const FAULT_STATUSES = ['applying', 'active', 'removed', 'failed'] as const;
export type TFaultStatus = (typeof FAULT_STATUSES)[number];

const tz = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const faults = pgTable(
  'faults',
  {
    id: text('id').primaryKey(),
    /** The run that applied it; null for faults applied by hand (`faultline faults apply`). */
    runId: text('run_id'),
    type: text('type').notNull(),
    /** Edge, instance or service name; partitions store their edge list as JSON text. */
    target: text('target').notNull(),
    /** Validated params (defaults filled in). */
    params: jsonb('params').notNull(),
    /** What was done, recorded step by step, so another process can undo it (chaos/faults/types.ts TUndo). */
    undo: jsonb('undo')
      .notNull()
      .default(sql`'{}'::jsonb`),
    status: text('status', { enum: FAULT_STATUSES }).notNull().default('applying'),
    error: text('error'),
    /** hostname:pid of the process that applied it. */
    appliedBy: text('applied_by'),
    appliedAt: tz('applied_at').notNull().defaultNow(),
    expiresAt: tz('expires_at'),
    removedAt: tz('removed_at'),
  },
  (t) => [
    index('faults_open_idx')
      .on(t.status)
      .where(sql`${t.removedAt} is null`),
    index('faults_run_idx').on(t.runId),
    check('faults_status_check', sql`${t.status} in ('applying','active','removed','failed')`),
  ],
);
