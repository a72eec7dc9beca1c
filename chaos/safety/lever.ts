/**
 * The safety lever's state (db/schema/safety.ts). This module only stores
 * and reads it; what engaging means (halt every fault, abort every run) is
 * done by workers/runs/engage-lever.ts, and every path that starts a run or
 * applies a fault asks `leverState` first.
 *
 * Engage and release are serialised by a transaction-scoped advisory lock so
 * two operators pulling the lever at once leave one engagement, not two.
 */
import { desc, sql } from 'drizzle-orm';
import type { TDb } from '../../db/client.js';
import { safetyLever } from '../../db/schema/safety.js';
import { AppError } from '../../core/errors.js';

export type TLeverState = { engaged: false } | { engaged: true; by: string; at: string; reason: string };

export interface TLeverEvent {
  action: 'engaged' | 'released';
  by: string;
  reason: string | null;
  /** ISO time. */
  at: string;
}

/** Arbitrary but fixed key of the advisory lock that serialises lever changes. */
const LEVER_LOCK_KEY = 0x5afe_1e7e;

/** Longest `by` / `reason` stored; a reason is a sentence, not a document. */
const MAX_BY = 200;
const MAX_REASON = 1000;

type TTx = Parameters<Parameters<TDb['transaction']>[0]>[0];

function toState(row: typeof safetyLever.$inferSelect | undefined): TLeverState {
  if (!row || row.action !== 'engaged') return { engaged: false };
  return { engaged: true, by: row.by, at: row.at.toISOString(), reason: row.reason ?? '' };
}

async function latest(db: TDb | TTx): Promise<typeof safetyLever.$inferSelect | undefined> {
  const [row] = await db.select().from(safetyLever).orderBy(desc(safetyLever.id)).limit(1);
  return row;
}

/** Postgres refuses NUL in text; other control characters make unreadable banners. */
function cleanText(field: string, value: string, max: number, required: boolean): string {
  // eslint-disable-next-line no-control-regex
  const v = value.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '').trim();
  if (required && !v) throw new AppError('VALIDATION', `${field} is required`, { issues: [{ path: field, message: 'required' }] });
  if (v.length > max)
    throw new AppError('VALIDATION', `${field} is longer than ${max} characters`, { issues: [{ path: field, message: `at most ${max} characters` }] });
  return v;
}

/** Is the lever engaged, and if so by whom, when and why. One indexed read (the primary key, newest first). */
export async function leverState(db: TDb): Promise<TLeverState> {
  return toState(await latest(db));
}

/**
 * Engage the lever. Engaging an engaged lever keeps the first engagement
 * (its who, when and why stay what the banner shows) and says so with
 * `alreadyEngaged`.
 * @param opts.by who engages it (required, at most 200 characters)
 * @param opts.reason why (required, at most 1000 characters)
 */
export async function setLever(
  db: TDb,
  opts: { by: string; reason: string },
): Promise<{ state: Extract<TLeverState, { engaged: true }>; alreadyEngaged: boolean }> {
  const by = cleanText('by', opts.by, MAX_BY, true);
  const reason = cleanText('reason', opts.reason, MAX_REASON, true);
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${LEVER_LOCK_KEY})`);
    const current = toState(await latest(tx));
    if (current.engaged) return { state: current, alreadyEngaged: true };
    const [row] = await tx.insert(safetyLever).values({ action: 'engaged', by, reason }).returning();
    return { state: toState(row) as Extract<TLeverState, { engaged: true }>, alreadyEngaged: false };
  });
}

/**
 * Release the lever. Releasing a lever that is not engaged changes nothing
 * and returns `released: false`.
 * @param opts.by who releases it (required)
 * @param opts.reason optional note kept in the history
 */
export async function clearLever(db: TDb, opts: { by: string; reason?: string }): Promise<{ released: boolean; previous: TLeverState }> {
  const by = cleanText('by', opts.by, MAX_BY, true);
  const reason = opts.reason === undefined ? '' : cleanText('reason', opts.reason, MAX_REASON, false);
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${LEVER_LOCK_KEY})`);
    const previous = toState(await latest(tx));
    if (!previous.engaged) return { released: false, previous };
    await tx.insert(safetyLever).values({ action: 'released', by, reason: reason || null });
    return { released: true, previous };
  });
}

/** The lever's history, newest first. */
export async function leverHistory(db: TDb, limit = 20): Promise<TLeverEvent[]> {
  const rows = await db
    .select()
    .from(safetyLever)
    .orderBy(desc(safetyLever.id))
    .limit(Math.max(1, Math.min(limit, 500)));
  return rows.map((r) => ({ action: r.action, by: r.by, reason: r.reason, at: r.at.toISOString() }));
}

/**
 * Throw the error every refused start answers with (HTTP 423, its own CLI
 * exit code) when the lever is engaged.
 * @param what what was refused, e.g. "new runs" or "hand-applied faults"
 */
export async function assertLeverReleased(db: TDb, what: string): Promise<void> {
  const s = await leverState(db);
  if (s.engaged) throw leverEngagedError(s, what);
}

export function leverEngagedError(s: Extract<TLeverState, { engaged: true }>, what: string): AppError {
  return new AppError(
    'HALTED',
    `the safety lever is engaged (by ${s.by} at ${s.at}: ${s.reason}); ${what} are refused until it is released (faultline halt --release)`,
    {
      details: { lever: s },
    },
  );
}
