/**
 * Live progress of a run: catch up from `run_events`, then follow the Redis
 * channel, without gaps or duplicates (subscribe first, then read the
 * backlog, then drop live events already seen by `seq`).
 *
 *   subscribe (own connection | shared hub) ─▶ backlog after afterSeq ─▶ early live events ─▶ live
 *                                                                         (each seq once, in order)
 */
import { AppError } from '../../core/errors.js';
import type { TRunState } from '../../db/schema/index.js';
import { runChannel, runControlChannel, type TStoredRunEvent } from '../runner/events.js';
import { isTerminal, transitionRun } from '../runner/lifecycle.js';
import { appendRunEvent } from '../runner/event-sink.js';
import type { TPlatform } from '../platform.js';
import { getRun, getRunEvents } from './query-runs.js';
import { runHub } from './run-hub.js';

export interface SubscribeRunOptions {
  /** Only events after this seq (SSE `Last-Event-ID`). @defaultValue 0 */
  afterSeq?: number;
  /**
   * Listen on this process's one shared subscriber connection (workers/runs/run-hub.ts; the console's
   * many open run pages) instead of a connection of its own. `closeRunHub` closes it.
   * @defaultValue false
   */
  shared?: boolean;
  /**
   * Called after the catch-up when the run has already ended by then: a run that ended early
   * (errored before it started) may have no verdict event to wait for.
   */
  onEnded?: (state: TRunState) => void;
}

/** Subscribe to a run's channel on a connection of its own; resolves once subscribed. */
async function ownSubscriber(p: TPlatform, channel: string, onMessage: (msg: string) => void): Promise<() => void> {
  const sub = p.newRedis({ subscriber: true });
  sub.on('message', (_ch, msg) => onMessage(msg));
  await sub.subscribe(channel);
  return () => sub.disconnect();
}

/** Calls `onEvent` for every event in order; resolves to an unsubscribe function. */
export async function subscribeRun(
  p: TPlatform,
  runId: string,
  onEvent: (e: TStoredRunEvent) => void,
  opts: SubscribeRunOptions = {},
): Promise<() => Promise<void>> {
  await getRun(p, runId);
  let last = opts.afterSeq ?? 0;
  let caughtUp = false;
  const early: TStoredRunEvent[] = [];
  const deliver = (e: TStoredRunEvent) => {
    if (e.seq <= last) return;
    last = e.seq;
    onEvent(e);
  };
  const onMessage = (msg: string) => {
    let e: TStoredRunEvent;
    try {
      e = JSON.parse(msg) as TStoredRunEvent;
    } catch {
      return;
    }
    if (!caughtUp) early.push(e);
    else deliver(e);
  };
  const channel = runChannel(runId, p.prefix);
  const unsubscribe = opts.shared ? await runHub(p).listen(channel, onMessage) : await ownSubscriber(p, channel, onMessage);
  try {
    for (const e of await getRunEvents(p, runId, last)) deliver(e);
    caughtUp = true;
    for (const e of early.sort((a, b) => a.seq - b.seq)) deliver(e);
    if (opts.onEnded) {
      const run = await getRun(p, runId);
      if (isTerminal(run.state)) opts.onEnded(run.state);
    }
  } catch (e) {
    unsubscribe();
    throw e;
  }
  return async () => unsubscribe();
}

/**
 * Ask the worker holding a run to abort it. A run still queued is ended
 * here directly (no worker holds it yet).
 */
export async function requestAbort(p: TPlatform, runId: string, reason = 'requested by user'): Promise<void> {
  const run = await getRun(p, runId);
  if (isTerminal(run.state)) return;
  if (run.state === 'queued' && (await transitionRun(p.db, runId, 'aborted', { reason: `aborted before start: ${reason}` }))) {
    await appendRunEvent(p.db, p.redis, p.prefix, runId, { type: 'phase', phase: 'aborted', reason });
    await appendRunEvent(p.db, p.redis, p.prefix, runId, { type: 'verdict', verdict: 'aborted', reason: `aborted before start: ${reason}` });
    return;
  }
  await p.redis.publish(runControlChannel(runId, p.prefix), JSON.stringify({ action: 'abort', reason }));
}

/** Resolve with the run once it reaches a terminal state (or reject after `timeoutMs`). */
export async function waitForRun(
  p: TPlatform,
  runId: string,
  opts: { timeoutMs?: number; onEvent?: (e: TStoredRunEvent) => void } = {},
): Promise<Awaited<ReturnType<typeof getRun>>> {
  const timeoutMs = opts.timeoutMs ?? 30 * 60_000;
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  const unsub = await subscribeRun(p, runId, (e) => {
    opts.onEvent?.(e);
    if (e.type === 'verdict') resolveDone();
  });
  try {
    const deadline = Date.now() + timeoutMs;
    // Poll as a fallback: a run ended by a sweeper in a process that could not publish still ends here.
    while (Date.now() < deadline) {
      const run = await getRun(p, runId);
      if (isTerminal(run.state)) return run;
      await Promise.race([done, new Promise((r) => setTimeout(r, 2000))]);
    }
    throw new AppError('TIMEOUT', `run ${runId} did not finish within ${Math.round(timeoutMs / 1000)}s`);
  } finally {
    await unsub();
  }
}
