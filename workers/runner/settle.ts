/**
 * The `recovering` phase: with every fault removed and the load ended, wait
 * until the shop has settled (no saga in flight, outbox drained, no live
 * reservation of a finished order), confirmed by a second reading, or until
 * the experiment's `quiescence` (the longest settle wait) runs out. What
 * never settles is left to the shop's saga deadline sweeper and shows in
 * the consistency checks.
 *
 *   check ─ settled? ─ no ──▶ wait pollMs ─▶ check …           (until maxMs)
 *                    └ yes ─▶ wait confirmMs ─▶ check ─ settled ─▶ done
 *                                                  (not before observeUntil: breakers must be seen closing)
 */
import { toAppError } from '../../core/errors.js';
import type { TExperiment } from '../../experiments/index.js';
import type { TFaultWindow, TSettleOutcome } from './ports.js';
import type { RunContext } from './run-context.js';

/** Options of settleShop. */
export interface TSettleOptions {
  /** Longest wait (ms): the experiment's quiescence. */
  maxMs: number;
  /** @defaultValue 500 */
  pollMs?: number;
  /** Wait before the confirming second reading. @defaultValue min(pollMs, 250) */
  confirmMs?: number;
  /**
   * Epoch ms before which a settled shop is not yet done: the metric collectors
   * must still see the breakers close (the latest `closes_within` deadline).
   * @defaultValue no such bound
   */
  observeUntil?: number;
}

/** Wait `ms`, or less when the run is stopped (never rejects). */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

async function readSettled(ctx: RunContext): Promise<{ settled: boolean; detail: string }> {
  try {
    return await ctx.sut.isSettled(ctx.baseline);
  } catch (e) {
    return { settled: false, detail: `settled check failed: ${toAppError(e).message}` };
  }
}

/** Poll the shop until it is settled or `maxMs` passed; emits a `settle` event with the outcome. */
export async function settleShop(ctx: RunContext, o: TSettleOptions): Promise<TSettleOutcome> {
  const pollMs = o.pollMs ?? 500;
  const confirmMs = o.confirmMs ?? Math.min(pollMs, 250);
  const t0 = Date.now();
  let reading = await readSettled(ctx);
  let confirmed = false;
  while (!ctx.signal.aborted) {
    const left = o.maxMs - (Date.now() - t0);
    if (left <= 0) break;
    const wasSettled = reading.settled;
    const observing = confirmed && o.observeUntil !== undefined ? Math.max(0, o.observeUntil - Date.now()) : undefined;
    await pause(Math.min(observing ?? (wasSettled ? confirmMs : pollMs), left), ctx.signal);
    if (ctx.signal.aborted) break;
    reading = await readSettled(ctx);
    if (wasSettled && reading.settled) {
      confirmed = true;
      if (Date.now() >= (o.observeUntil ?? 0)) break;
    }
  }
  // a single settled reading when the time ran out still counts: it was the shop's last word
  const outcome: TSettleOutcome = { settled: confirmed || reading.settled, waitedMs: Date.now() - t0, maxMs: o.maxMs, detail: reading.detail };
  await ctx.emit({ type: 'settle', ...outcome });
  return outcome;
}

/**
 * The latest moment a breaker expectation can still be judged: the removal of
 * the fault it opens during plus its `closes_within`. Settling does not end
 * before it, so a shop that settles in a second still has its breakers
 * observed closing (or not).
 */
export function breakerObservationEnd(experiment: TExperiment, windows: readonly Pick<TFaultWindow, 'name' | 'removedAt'>[]): number | undefined {
  let end: number | undefined;
  for (const b of experiment.expectations.breakers) {
    const removed = windows.find((w) => w.name === b.opens_during)?.removedAt;
    if (removed == null) continue;
    end = Math.max(end ?? 0, removed + b.closes_within);
  }
  return end;
}
