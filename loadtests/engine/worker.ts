/**
 * Runs the engine inside a worker thread so the caller's event loop (runner,
 * console, CLI progress) never competes with the scheduler's timers.
 *
 *   parent ──workerData {scenario, baseUrl}──▶ worker: runEngine()
 *   parent ◀── second | history[] (batched 50 ms) | thresholds | done | error
 *   parent ──{type:'abort'}──▶ worker (AbortController)
 */
import { parentPort, workerData } from 'node:worker_threads';
import { isAppError } from '../../core/errors.js';
import type { TScenario } from '../scenario.js';
import type { TSegmentSpec } from '../segments.js';
import type { TShopData } from './shop.js';
import type { THistoryEvent } from '../types.js';
import { runEngine } from './engine.js';

export type TWorkerIn = { type: 'abort' } | { type: 'start'; at: number };

/** What the parent hands the worker. */
export interface TWorkerData {
  scenario: TScenario;
  baseUrl: string;
  history: boolean;
  /** Run only this segment (k6 flags' values). */
  segment?: TSegmentSpec;
  /** Setup data from a setup run once for all segments. */
  setupData?: TShopData;
  /** Seconds carry histograms, the result its raw metrics (for mergeLoadResults). */
  mergeable?: boolean;
  /** Post `ready` after warm-up and start at the time of the parent's `start` message. */
  syncStart?: boolean;
}
export type TWorkerOut =
  | { type: 'second'; second: import('../types.js').TLoadSecond }
  | { type: 'history'; events: THistoryEvent[] }
  | { type: 'ready' }
  | { type: 'done'; result: import('../types.js').TLoadResult }
  | { type: 'error'; error: { code: string; message: string; issues?: unknown[]; details?: Record<string, unknown> } };

const port = parentPort!;
const { scenario, baseUrl, history, segment, setupData, mergeable, syncStart } = workerData as TWorkerData;
const abort = new AbortController();
let started: ((at: number) => void) | undefined;
const startAt = new Promise<number>((resolve) => (started = resolve));
port.on('message', (m: TWorkerIn) => {
  if (m.type === 'abort') {
    abort.abort();
    started?.(Date.now());
  } else if (m.type === 'start') started?.(m.at);
});

let batch: THistoryEvent[] = [];
const flush = () => {
  if (batch.length) port.postMessage({ type: 'history', events: batch } satisfies TWorkerOut);
  batch = [];
};
const flusher = setInterval(flush, 50);

try {
  const result = await runEngine(scenario, {
    baseUrl,
    signal: abort.signal,
    collectHistory: false,
    segment,
    setupData,
    mergeable,
    startAt: syncStart
      ? () => {
          port.postMessage({ type: 'ready' } satisfies TWorkerOut);
          return startAt;
        }
      : undefined,
    onSecond: (second) => port.postMessage({ type: 'second', second } satisfies TWorkerOut),
    onHistory: history
      ? (e) => {
          batch.push(e);
          if (batch.length >= 2000) flush();
        }
      : undefined,
  });
  flush();
  port.postMessage({ type: 'done', result } satisfies TWorkerOut);
} catch (e) {
  flush();
  const err = isAppError(e)
    ? { code: e.code, message: e.message, issues: e.issues, details: e.details }
    : { code: 'INTERNAL', message: (e as Error)?.message ?? String(e) };
  port.postMessage({ type: 'error', error: err } satisfies TWorkerOut);
} finally {
  clearInterval(flusher);
  port.close();
}
