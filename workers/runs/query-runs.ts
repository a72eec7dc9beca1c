/** Reading runs, their events and reports (console pages, CLI). */
import { and, asc, desc, eq, gt, inArray, type SQL } from 'drizzle-orm';
import { AppError } from '../../core/errors.js';
import { reports, runEvents, runs, violations, type TRunState } from '../../db/schema/index.js';
import type { TStoredRunEvent } from '../runner/events.js';
import type { TPlatform } from '../platform.js';

export type TRunRow = typeof runs.$inferSelect;

export async function getRun(p: TPlatform, runId: string): Promise<TRunRow> {
  const [r] = await p.db.select().from(runs).where(eq(runs.id, runId));
  if (!r) throw new AppError('NOT_FOUND', `no run "${runId}"`, { issues: [{ path: 'runId', message: 'no such run' }] });
  return r;
}

export interface ListRunsFilter {
  experimentId?: string;
  states?: TRunState[];
  suiteRunId?: string;
  /** @defaultValue 50 */
  limit?: number;
}

export async function listRuns(p: TPlatform, f: ListRunsFilter = {}): Promise<TRunRow[]> {
  const where: SQL[] = [];
  if (f.experimentId) where.push(eq(runs.experimentId, f.experimentId));
  if (f.states?.length) where.push(inArray(runs.state, f.states));
  if (f.suiteRunId) where.push(eq(runs.suiteRunId, f.suiteRunId));
  return p.db
    .select()
    .from(runs)
    .where(where.length ? and(...where) : undefined)
    .orderBy(desc(runs.createdAt))
    .limit(Math.min(Math.max(f.limit ?? 50, 1), 500));
}

/** Stored events after `afterSeq`, in order. */
export async function getRunEvents(p: TPlatform, runId: string, afterSeq = 0): Promise<TStoredRunEvent[]> {
  const rows = await p.db
    .select()
    .from(runEvents)
    .where(and(eq(runEvents.runId, runId), gt(runEvents.seq, afterSeq)))
    .orderBy(asc(runEvents.seq));
  return rows.map((r) => ({ ...(r.data as object), type: r.type, runId: r.runId, seq: r.seq, t: r.t.getTime() }) as TStoredRunEvent);
}

export async function getReport(p: TPlatform, runId: string): Promise<typeof reports.$inferSelect> {
  const [r] = await p.db.select().from(reports).where(eq(reports.runId, runId));
  if (!r) {
    const run = await getRun(p, runId);
    throw new AppError('NOT_FOUND', `run ${runId} has no report yet (state ${run.state})`);
  }
  return r;
}

export async function getViolations(p: TPlatform, runId: string): Promise<(typeof violations.$inferSelect)[]> {
  return p.db.select().from(violations).where(eq(violations.runId, runId)).orderBy(asc(violations.id));
}
