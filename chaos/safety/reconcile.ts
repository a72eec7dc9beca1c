/**
 * The reconciler: faults must never outlive their run. It closes every open
 * ledger row whose run is no longer active, whose expiry has passed, whose
 * removal failed earlier, or whose applying process on this host is gone,
 * undoing what the row recorded. Workers run it on start and periodically.
 *
 * Faults do not know who schedules them (issue 11): whether a run is still
 * active is asked of the caller (`isRunActive`, supplied by workers/), never
 * read from the runner's tables here.
 */
import { hostname } from 'node:os';
import { toAppError } from '../../core/errors.js';
import type { TFaultContext, TUndo } from '../faults/types.js';
import { revertUndo } from '../faults/undo.js';
import { markFailed, markRemoved, openFaults, type TFaultRow } from './ledger.js';

export type TOrphanReason = 'expired' | 'run-ended' | 'removal-failed' | 'holder-gone';

/**
 * Why an open fault should be removed now, or null to leave it (pure).
 * A row still `applying` is left to its live holder unless expired or its run ended.
 */
export function orphanReason(
  row: Pick<TFaultRow, 'runId' | 'expiresAt' | 'status'>,
  facts: { now: Date; runActive: boolean | undefined; holderAlive: boolean | undefined },
): TOrphanReason | null {
  if (row.expiresAt && row.expiresAt.getTime() <= facts.now.getTime()) return 'expired';
  if (row.runId && facts.runActive === false) return 'run-ended';
  if (facts.holderAlive === false) return 'holder-gone';
  if (row.status === 'failed') return 'removal-failed';
  return null;
}

/**
 * Whether the process recorded in `appliedBy` (`hostname:pid`) is alive;
 * undefined when it ran on another host (not knowable from here) or none
 * was recorded (detached faults, e.g. applied from the CLI with an expiry).
 */
export function holderAlive(appliedBy: string | null, host = hostname()): boolean | undefined {
  if (!appliedBy) return undefined;
  const i = appliedBy.lastIndexOf(':');
  if (i < 0 || appliedBy.slice(0, i) !== host) return undefined;
  const pid = Number(appliedBy.slice(i + 1));
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface TReconcileOptions {
  /**
   * Whether a run is still active (its faults are then left alone). Required:
   * the caller owns the runs (workers/runs/active-runs.ts `isRunActiveInDb`);
   * a wrong answer here removes a live run's faults or keeps a dead one's.
   */
  isRunActive: (runId: string) => boolean | Promise<boolean>;
  /** @defaultValue new Date() */
  now?: Date;
  /**
   * Treat faults whose applying process (same host) has died as orphans.
   * @defaultValue true
   */
  checkHolder?: boolean;
}

export interface TReconcileResult {
  removed: { id: string; type: string; target: string; runId: string | null; reason: TOrphanReason }[];
  /** Rows whose removal failed this time; they stay open and are retried next pass. */
  failed: { id: string; type: string; target: string; error: string }[];
}

export async function reconcileFaults(ctx: Omit<TFaultContext, 'runId' | 'expiresAt'>, opts: TReconcileOptions): Promise<TReconcileResult> {
  const now = opts.now ?? new Date();
  const isRunActive = opts.isRunActive;
  const rows = await openFaults(ctx.db);
  const runCache = new Map<string, Promise<boolean>>();
  const runActive = (id: string) => {
    let p = runCache.get(id);
    if (!p) runCache.set(id, (p = Promise.resolve(isRunActive(id))));
    return p;
  };
  const result: TReconcileResult = { removed: [], failed: [] };
  await Promise.all(
    rows.map(async (row) => {
      const reason = orphanReason(row, {
        now,
        runActive: row.runId ? await runActive(row.runId) : undefined,
        holderAlive: opts.checkHolder === false ? undefined : holderAlive(row.appliedBy),
      });
      if (!reason) return;
      try {
        await revertUndo((row.undo ?? {}) as TUndo, ctx, row.id);
        await markRemoved(ctx.db, row.id);
        result.removed.push({ id: row.id, type: row.type, target: row.target, runId: row.runId, reason });
      } catch (e) {
        const error = toAppError(e).message;
        await markFailed(ctx.db, row.id, error).catch(() => {});
        result.failed.push({ id: row.id, type: row.type, target: row.target, error });
      }
    }),
  );
  return result;
}

export interface TReconcilerOptions extends TReconcileOptions {
  /**
   * Time between passes (the first pass runs at once).
   * @defaultValue 5000
   */
  intervalMs?: number;
  /** Called after each pass that removed or failed to remove something. */
  onResult?: (r: TReconcileResult) => void;
  /** Called when a pass itself failed (e.g. the database is unreachable); the next pass still runs. */
  onError?: (e: unknown) => void;
}

/** Run the reconciler now and every `intervalMs`; passes never overlap. */
export function startReconciler(
  ctx: Omit<TFaultContext, 'runId' | 'expiresAt'>,
  opts: TReconcilerOptions,
): { stop(): Promise<void>; runOnce(): Promise<TReconcileResult> } {
  const intervalMs = opts.intervalMs ?? 5000;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<unknown> = Promise.resolve();
  const runOnce = async () => {
    const r = await reconcileFaults(ctx, { ...opts, now: undefined });
    if (r.removed.length || r.failed.length) opts.onResult?.(r);
    return r;
  };
  const tick = () => {
    current = runOnce()
      .catch((e) => opts.onError?.(e))
      .finally(() => {
        if (!stopped) timer = setTimeout(tick, intervalMs);
      });
  };
  tick();
  return {
    runOnce,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await current;
    },
  };
}
