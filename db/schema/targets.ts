/**
 * Targets saved from the console: a target file's text kept in the platform
 * database instead of on disk (targets/, examples/ stay files). The text is
 * the truth — stored only after it validated — and the name is the target's
 * own `name` field, by which experiments name it (`target: <name>`), so it
 * never changes once saved. Runs read it through one resolver
 * (workers/targets/saved-targets.ts), which writes it to a file so every
 * file-based path (the loader, the fault ledger's undo) works unchanged.
 */
import { pgTable, text, timestamp } from 'drizzle-orm/pg-core';

const tz = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const savedTargets = pgTable('targets', {
  /** The target's `name` (unique; never one of a shipped target file's). */
  name: text('name').primaryKey(),
  /** The YAML as written, comments included. */
  yaml: text('yaml').notNull(),
  /** Who saved it first, and last (the console user's name). */
  createdBy: text('created_by').notNull(),
  updatedBy: text('updated_by').notNull(),
  createdAt: tz('created_at').notNull().defaultNow(),
  updatedAt: tz('updated_at').notNull().defaultNow(),
});
