/**
 * The safety lever (after AWS FIS's): one row per engage or release, never
 * updated, so the table is both the current state (its newest row) and the
 * history of who stopped experiments, when and why. Living in Postgres, the
 * lever survives a restart of any process.
 *
 *   (none) ──engage──▶ engaged ──release──▶ released ──engage──▶ engaged …
 *
 * chaos/safety/lever.ts writes it; nothing else should.
 */
import { sql } from 'drizzle-orm';
import { bigserial, check, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

export const LEVER_ACTIONS = ['engaged', 'released'] as const;
export type TLeverAction = (typeof LEVER_ACTIONS)[number];

export const safetyLever = pgTable(
  'safety_lever',
  {
    /** Monotonic: the newest row (highest id) is the lever's state. */
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    action: text('action', { enum: LEVER_ACTIONS }).notNull(),
    /** Who pulled or released it (user name, or `cli:<os user>`). */
    by: text('by').notNull(),
    /** Why (required to engage, optional to release). */
    reason: text('reason'),
    at: timestamp('at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [check('safety_lever_action_check', sql`${t.action} in ('engaged','released')`)],
);
