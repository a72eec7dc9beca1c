/**
 * The worker side of a split load: run one segment of the scenario on the
 * built-in engine (its own worker thread), start at the coordinator's agreed
 * time, and stream what it measures.
 *
 *   job taken ─▶ up: taken ─▶ engine warm-up ─▶ up: ready ─▶ wait down: start {at}
 *       │ heartbeat every heartbeatMs                         │
 *       │                                   engine from `at` ─┴▶ up: second… history… ─▶ up: done
 *       └── down: abort / worker shutdown / coordinator's alive key gone ─▶ engine aborted (exit 105) ─▶ up: done
 *   any failure ─▶ up: error, then the job fails (one attempt: a segment cannot be resumed)
 */
import type { Redis } from 'ioredis';
import { AppError, toAppError } from '../../core/errors.js';
import { evenSegmentSpec, runSegment, type THistoryEvent, type TLoadResult } from '../../loadtests/index.js';
import type { TPlatform } from '../platform.js';
import { aliveKey, downStream, entriesOf, FIELD, STREAM_TTL_MS, upStream, type TSegmentDown, type TSegmentUp } from './messages.js';
import type { TLoadSegmentPayload } from './segment-job.js';

export interface TRunSegmentJobOptions {
  workerId: string;
  /** The worker is shutting down: the segment is aborted. */
  signal?: AbortSignal;
}

/**
 * Run one segment job to its end; resolves with the segment's exit code (and why it was stopped early),
 * rejects when it failed (after telling the coordinator).
 */
export async function runSegmentJob(p: TPlatform, job: TLoadSegmentPayload, o: TRunSegmentJobOptions): Promise<{ exitCode: number; stopped?: string }> {
  const up = upStream(p.prefix, job.loadId);
  const send = (m: TSegmentUp) => p.redis.xadd(up, '*', FIELD, JSON.stringify(m)).then(() => undefined);
  const stop = new AbortController();
  const onShutdown = () => stop.abort();
  o.signal?.addEventListener('abort', onShutdown, { once: true });
  // a blocking reader needs its own connection
  const reader = p.newRedis();
  const start = deferred<number>();
  let history: THistoryEvent[] = [];
  const flushHistory = () => {
    if (history.length) void send({ type: 'history', index: job.index, events: history }).catch(() => undefined);
    history = [];
  };
  let stopReason: string | undefined;
  const coordinatorGone = async () => {
    if (job.coordinatorTimeoutMs === undefined || stop.signal.aborted) return;
    if ((await p.redis.exists(aliveKey(p.prefix, job.loadId)).catch(() => 1)) === 0) {
      stopReason = `the coordinator of load ${job.loadId} is gone (no sign of life for ${job.coordinatorTimeoutMs} ms)`;
      stop.abort();
    }
  };
  const heartbeat = setInterval(() => {
    void send({ type: 'heartbeat', index: job.index }).catch(() => undefined);
    void coordinatorGone();
  }, job.heartbeatMs);
  const historyTimer = setInterval(flushHistory, 100);
  try {
    await send({ type: 'taken', index: job.index, worker: o.workerId });
    await coordinatorGone();
    void readDown(reader, downStream(p.prefix, job.loadId), stop.signal, (m) => {
      if (m.type === 'start') start.resolve(m.at);
      else {
        stopReason ??= `aborted by the coordinator: ${m.reason}`;
        stop.abort();
      }
    });
    let result: TLoadResult;
    try {
      result = await runSegment(job.scenario, {
        baseUrl: job.baseUrl,
        segment: evenSegmentSpec(job.index, job.count),
        setupData: job.setupData,
        history: job.history,
        signal: stop.signal,
        onReady: (go) => {
          void send({ type: 'ready', index: job.index });
          const giveUp = setTimeout(
            () => start.reject(new AppError('UNAVAILABLE', `no start for load ${job.loadId} within ${job.startWaitMs} ms of warming up`)),
            job.startWaitMs,
          );
          const aborted = () => start.resolve(Date.now());
          if (stop.signal.aborted) aborted();
          else stop.signal.addEventListener('abort', aborted, { once: true });
          start.promise.then(
            (at) => {
              clearTimeout(giveUp);
              go(at);
            },
            () => {
              clearTimeout(giveUp);
              stop.abort();
              go(Date.now());
            },
          );
        },
        onSecond: (second) => void send({ type: 'second', index: job.index, second }).catch(() => undefined),
        onHistory: (e) => {
          history.push(e);
          if (history.length >= 2000) flushHistory();
        },
      });
    } finally {
      flushHistory();
    }
    if (start.failed) throw start.failed;
    // history went in `history` messages already
    await send({ type: 'done', index: job.index, result: { ...result, history: [] } });
    if (o.signal?.aborted) stopReason ??= 'worker shutting down';
    return { exitCode: result.exitCode, ...(stopReason ? { stopped: stopReason } : {}) };
  } catch (e) {
    const err = toAppError(e);
    await send({ type: 'error', index: job.index, code: err.code, message: err.message }).catch(() => undefined);
    throw e;
  } finally {
    clearInterval(heartbeat);
    clearInterval(historyTimer);
    stop.abort();
    o.signal?.removeEventListener('abort', onShutdown);
    reader.disconnect();
    await p.redis.pexpire(up, STREAM_TTL_MS).catch(() => undefined);
  }
}

/** Read the coordinator's commands (from the stream's start: a late reader sees a start or abort sent before it came). */
async function readDown(reader: Redis, key: string, signal: AbortSignal, on: (m: TSegmentDown) => void): Promise<void> {
  let last = '0';
  while (!signal.aborted) {
    try {
      const answer = (await reader.xread('BLOCK', 1000, 'STREAMS', key, last)) as [string, [string, string[]][]][] | null;
      for (const [id, m] of entriesOf<TSegmentDown>(answer)) {
        last = id;
        on(m);
      }
    } catch {
      if (signal.aborted) return;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const d = {
    failed: undefined as unknown,
    promise: new Promise<T>((res, rej) => {
      resolve = res;
      reject = rej;
    }),
    resolve: (v: T) => resolve(v),
    reject: (e: unknown) => {
      d.failed = e;
      reject(e);
    },
  };
  d.promise.catch(() => undefined);
  return d;
}
