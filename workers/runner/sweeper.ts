/**
 * Stall detection: a run whose holder stopped heartbeating is ended
 * `errored` with the reason, so it never stays `running`. The fault
 * reconciler then sees the run ended and removes its faults.
 */
import { and, inArray, isNull, lt, or, sql } from 'drizzle-orm';
import { runs } from '../../db/schema/index.js';
import type { TPlatform } from '../platform.js';
import { appendRunEvent } from './event-sink.js';
import { transitionRun } from './lifecycle.js';
import { runJobId } from '../runs/enqueue-run.js';

const ACTIVE = ['steady_state', 'running', 'recovering', 'analysing'] as const;

/** End every active run whose heartbeat is older than `staleMs`. Returns the ids ended. */
export async function sweepStalledRuns(p: TPlatform, staleMs: number): Promise<string[]> {
  const cutoff = new Date(Date.now() - staleMs);
  const stale = await p.db
    .select({ id: runs.id, state: runs.state, workerId: runs.workerId, heartbeatAt: runs.heartbeatAt })
    .from(runs)
    .where(and(inArray(runs.state, [...ACTIVE]), or(isNull(runs.heartbeatAt), lt(runs.heartbeatAt, cutoff))));
  const ended: string[] = [];
  for (const r of stale) {
    const since = r.heartbeatAt ? `${Math.round((Date.now() - r.heartbeatAt.getTime()) / 1000)}s` : 'ever';
    const reason = `stalled: no heartbeat from worker ${r.workerId ?? '?'} for ${since} during ${r.state}`;
    if (await transitionRun(p.db, r.id, 'errored', { reason })) {
      ended.push(r.id);
      await appendRunEvent(p.db, p.redis, p.prefix, r.id, { type: 'phase', phase: 'errored', reason }).catch(() => undefined);
      await appendRunEvent(p.db, p.redis, p.prefix, r.id, { type: 'verdict', verdict: 'errored', reason }).catch(() => undefined);
    }
  }
  return ended;
}

/** Queued runs older than `maxAgeMs` whose BullMQ job is gone (queue flushed, Redis lost) are ended errored. */
export async function sweepOrphanQueuedRuns(p: TPlatform, maxAgeMs: number): Promise<string[]> {
  const old = await p.db
    .select({ id: runs.id })
    .from(runs)
    .where(and(sql`${runs.state} = 'queued'`, lt(runs.createdAt, new Date(Date.now() - maxAgeMs))));
  const ended: string[] = [];
  for (const r of old) {
    const job = await p.queue.getJob(runJobId(r.id));
    if (job) continue;
    const reason = 'queued run has no job in the queue (Redis lost or queue cleared)';
    if (await transitionRun(p.db, r.id, 'errored', { reason })) {
      ended.push(r.id);
      await appendRunEvent(p.db, p.redis, p.prefix, r.id, { type: 'verdict', verdict: 'errored', reason }).catch(() => undefined);
    }
  }
  return ended;
}
