/**
 * Run state transitions (pure table + one guarded UPDATE). A transition
 * only happens from the state the caller believes the run is in, so a
 * sweeper ending a stalled run and a slow runner cannot both win.
 */
import { and, eq, inArray, sql } from 'drizzle-orm';
import type { TDb } from '../../db/client.js';
import { isTerminal, runs, type TRunState } from '../../db/schema/index.js';

export { isTerminal };

export const TRANSITIONS: Record<TRunState, readonly TRunState[]> = {
  queued: ['steady_state', 'aborted', 'errored'],
  steady_state: ['running', 'aborted', 'errored'],
  running: ['recovering', 'aborted', 'errored'],
  recovering: ['analysing', 'aborted', 'errored'],
  analysing: ['passed', 'failed', 'aborted', 'errored'],
  passed: [],
  failed: [],
  aborted: [],
  errored: [],
};

export function canTransition(from: TRunState, to: TRunState): boolean {
  return TRANSITIONS[from].includes(to);
}

const TIMESTAMP_OF: Partial<Record<TRunState, keyof typeof runs.$inferInsert>> = {
  steady_state: 'steadyStateAt',
  running: 'runningAt',
  recovering: 'recoveringAt',
  analysing: 'analysingAt',
};

/**
 * Move a run to `to` if it is in one of the states that may lead there.
 * Returns false when the run had already moved on (another process ended it).
 */
export async function transitionRun(
  db: TDb,
  runId: string,
  to: TRunState,
  extra: { reason?: string; summary?: unknown; workerId?: string } = {},
): Promise<boolean> {
  const from = (Object.keys(TRANSITIONS) as TRunState[]).filter((s) => canTransition(s, to));
  const now = new Date();
  const set: Record<string, unknown> = { state: to };
  const ts = TIMESTAMP_OF[to];
  if (ts) set[ts] = now;
  if (isTerminal(to)) set.endedAt = now;
  if (extra.reason !== undefined) set.reason = extra.reason;
  if (extra.summary !== undefined) set.summary = extra.summary;
  if (extra.workerId !== undefined) set.workerId = extra.workerId;
  if (to === 'steady_state') set.heartbeatAt = now;
  const r = await db
    .update(runs)
    .set(set)
    .where(and(eq(runs.id, runId), inArray(runs.state, from)))
    .returning({ id: runs.id });
  return r.length === 1;
}

export async function heartbeat(db: TDb, runId: string): Promise<void> {
  await db
    .update(runs)
    .set({ heartbeatAt: sql`now()` })
    .where(and(eq(runs.id, runId), inArray(runs.state, ['steady_state', 'running', 'recovering', 'analysing'])));
}
