/**
 * loadtests: scenarios, k6 scripts, the built-in engine and the k6 adapter.
 * Public surface (docs/architecture.md "Load"): runLoad() and the scenario
 * schema; other folders import this file only.
 */
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { AppError } from '../core/errors.js';
import { loadConfig } from '../core/config.js';
import { runSetup } from './engine/engine.js';
import type { TShopData } from './engine/shop.js';
import type { TWorkerData, TWorkerIn, TWorkerOut } from './engine/worker.js';
import { runK6Segments } from './k6-adapter/segments.js';
import { mergeLoadResults, SecondMerger } from './merge.js';
import { evenSegmentSpec, type TSegmentSpec } from './segments.js';
import { resolveK6Bin, runK6 } from './k6-adapter/run.js';
import type { TScenario } from './scenario.js';
import type { THistoryEvent, TLoadEngine, TLoadResult, TLoadSecond } from './types.js';

export * from './scenario.js';
export * from './types.js';
export { formatSummary, formatMetricValues } from './summary.js';
export { parseDuration, formatDuration } from './duration.js';
export { mergeLoadResults, mergeSeconds, mergeSecond, thresholdDefsFrom, SecondMerger, type TMergeOptions } from './merge.js';
export { runEngine, runSetup, k6SetupData, type TEngineOptions } from './engine/engine.js';
export type { TShopData } from './engine/shop.js';
export { runK6Segments, type TRunK6SegmentsOptions } from './k6-adapter/segments.js';
export { mergeK6Outputs, k6RawFromPoints, K6RawBuilder } from './k6-adapter/raw.js';
export { k6OperatorManifest, operatorSegmentFlags, type TK6ManifestOptions } from './k6-adapter/manifest.js';
export { encodeHistogram, decodeHistogram, type TRawSink } from './engine/metrics.js';
export {
  parseSegment,
  parseSegmentSequence,
  formatSegment,
  formatSequence,
  splitEvenly,
  executionTuple,
  evenTuple,
  evenSegmentSpec,
  tupleOf,
  scaleInt,
  stripedIndices,
  segmentFlags,
  type TExecutionSegment,
  type TExecutionTuple,
  type TSegmentSpec,
} from './segments.js';
export { parseThresholdExpression, parseMetricSelector, evaluateThresholds, type TThresholdResult } from './thresholds.js';
export { resolveK6Bin } from './k6-adapter/run.js';
export { fromHandleSummary, fromSummaryExport, parseK6Points, parseK6History } from './k6-adapter/parse.js';

export interface TRunLoadOptions {
  /**
   * Which engine runs the scenario.
   * @defaultValue 'k6' when K6_BIN is set or a k6 is on PATH, else 'builtin'
   */
  engine?: TLoadEngine;
  /**
   * Shop gateway URL.
   * @defaultValue scenario.baseUrl, else SHOP_GATEWAY_URL
   */
  baseUrl?: string;
  /** Each finished second of the run. */
  onSecond?: (s: TLoadSecond) => void;
  /** Each history event (batched from the engine's worker every 50 ms). */
  onHistory?: (e: THistoryEvent) => void;
  /** Abort the run (k6 exit status 105). */
  signal?: AbortSignal;
  /**
   * Record history events (result.history and onHistory). Off only for
   * benchmarks, where building and shipping them costs rate.
   * @defaultValue true
   */
  history?: boolean;
  /**
   * Split the run into this many equal execution segments, each run by its
   * own generator (built-in: a worker thread each; k6: a process each), with
   * one setup, one agreed start and one merged result.
   * @defaultValue scenario.segments, else 1
   */
  segments?: number;
}

const WORKER_ENTRY = fileURLToPath(new URL('./engine/worker-entry.mjs', import.meta.url));

/** Run a scenario with the built-in engine (in a worker thread) or k6. */
export async function runLoad(scenario: TScenario, opts: TRunLoadOptions = {}): Promise<TLoadResult> {
  const baseUrl = opts.baseUrl ?? scenario.baseUrl ?? loadConfig().SHOP_GATEWAY_URL;
  // a plain-HTTP scenario (`requests`) runs on the built-in engine: the k6 scripts drive the shop's mix
  const k6 = opts.engine === 'builtin' || scenario.requests ? undefined : resolveK6Bin();
  const engine = opts.engine ?? (k6 ? 'k6' : 'builtin');
  const segments = opts.segments ?? scenario.segments ?? 1;
  if (!Number.isInteger(segments) || segments < 1 || segments > 64)
    throw new AppError('VALIDATION', 'invalid segments', { issues: [{ path: 'segments', message: `${segments}: a whole number from 1 to 64` }] });
  if (engine === 'k6') {
    if (!k6) throw new AppError('UNAVAILABLE', 'engine k6 requested but no k6 found (set K6_BIN or put k6 on PATH)');
    if (segments > 1)
      return withoutRaw(await runK6Segments(scenario, { bin: k6, baseUrl, segments, onSecond: opts.onSecond, onHistory: opts.onHistory, signal: opts.signal }));
    return runK6(scenario, { bin: k6, baseUrl, onSecond: opts.onSecond, onHistory: opts.onHistory, signal: opts.signal });
  }
  if (segments > 1) return withoutRaw(await runBuiltinSegments(scenario, baseUrl, segments, opts));
  return runBuiltinInWorker(scenario, baseUrl, opts);
}

/** The merged result as every runLoad caller knows it: the raw merge state stays inside. */
function withoutRaw(r: TLoadResult): TLoadResult {
  const { raw: _raw, ...rest } = r;
  return rest;
}

/**
 * N segments of the built-in engine in N worker threads (each its own event
 * loop, so a busy machine's cores share the scheduling): setup once here,
 * every segment warms up, then all start at one agreed time; seconds are
 * merged live, the results exactly at the end.
 */
async function runBuiltinSegments(scenario: TScenario, baseUrl: string, n: number, opts: TRunLoadOptions): Promise<TLoadResult> {
  const setupData = await runSetup(scenario, { baseUrl, signal: opts.signal, onHistory: opts.history === false ? undefined : opts.onHistory });
  const merger = opts.onSecond ? new SecondMerger(n, opts.onSecond) : undefined;
  const ready: (() => void)[] = [];
  let readyCount = 0;
  const onReady = (start: () => void) => {
    ready.push(start);
    // everyone warmed up: start 50 ms from now (time for the messages to arrive)
    if (++readyCount === n) for (const go of ready) go();
  };
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    let at: number | undefined;
    let firstError: { e: unknown } | undefined;
    const settled = await Promise.allSettled(
      Array.from({ length: n }, (_, i) =>
        runBuiltinInWorker(
          scenario,
          baseUrl,
          { ...opts, signal: stop.signal, onSecond: merger ? (sec) => merger.push(i, sec) : undefined },
          {
            segment: evenSegmentSpec(i, n),
            setupData,
            mergeable: true,
            onReady: (post) => onReady(() => post((at ??= Date.now() + 50))),
          },
        ).catch((e: unknown) => {
          // the first failure is the cause; the others were stopped because of it
          firstError ??= { e };
          stop.abort();
          throw e;
        }),
      ),
    );
    merger?.flush();
    if (firstError) throw firstError.e;
    return mergeLoadResults(
      scenario,
      settled.map((r) => (r as PromiseFulfilledResult<TLoadResult>).value),
    );
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
  }
}

export interface TRunSegmentOptions {
  /** Shop gateway URL. */
  baseUrl: string;
  /** Which part of the schedule this generator runs (k6 flags' values, e.g. `evenSegmentSpec(i, n)`). */
  segment: TSegmentSpec;
  /** Setup data from one `runSetup` for every segment (users and tokens are not registered again). */
  setupData: TShopData;
  /**
   * The engine finished its warm-up: call `start(at)` with the agreed epoch ms
   * (every segment of the run gets the same one).
   */
  onReady: (start: (at: number) => void) => void;
  /** Each finished second; carries `hdr` histograms, so a collector can merge it (`SecondMerger`). */
  onSecond?: (s: TLoadSecond) => void;
  /** Each history event (batched from the engine thread every 50 ms). */
  onHistory?: (e: THistoryEvent) => void;
  /** Abort the segment (k6 exit status 105). */
  signal?: AbortSignal;
  /** @defaultValue true */
  history?: boolean;
}

/**
 * One execution segment of a run on the built-in engine, in a worker thread,
 * for a generator that is not the process merging the run (a BullMQ worker):
 * the result keeps its raw metrics for `mergeLoadResults`.
 */
export function runSegment(scenario: TScenario, o: TRunSegmentOptions): Promise<TLoadResult> {
  return runBuiltinInWorker(
    scenario,
    o.baseUrl,
    { onSecond: o.onSecond, onHistory: o.onHistory, signal: o.signal, history: o.history },
    { segment: o.segment, setupData: o.setupData, mergeable: true, onReady: o.onReady },
  );
}

interface TWorkerExtras {
  segment?: TSegmentSpec;
  setupData?: TShopData;
  mergeable?: boolean;
  /** The worker finished setup and warm-up; call `start(at)` with the agreed epoch ms. */
  onReady?: (start: (at: number) => void) => void;
}

function runBuiltinInWorker(scenario: TScenario, baseUrl: string, opts: TRunLoadOptions, extras: TWorkerExtras = {}): Promise<TLoadResult> {
  return new Promise<TLoadResult>((resolve, reject) => {
    const data: TWorkerData = {
      scenario,
      baseUrl,
      history: opts.history ?? true,
      segment: extras.segment,
      setupData: extras.setupData,
      mergeable: extras.mergeable,
      syncStart: extras.onReady !== undefined,
    };
    // the worker gets no parent loader flags: worker-entry.mjs registers tsx itself
    const worker = new Worker(WORKER_ENTRY, { workerData: data, execArgv: [] });
    const history: THistoryEvent[] = [];
    let settled = false;
    const onAbort = () => worker.postMessage({ type: 'abort' } satisfies TWorkerIn);
    if (opts.signal?.aborted) onAbort();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      opts.signal?.removeEventListener('abort', onAbort);
      fn();
    };
    worker.on('message', (m: TWorkerOut) => {
      switch (m.type) {
        case 'second':
          opts.onSecond?.(m.second);
          break;
        case 'ready':
          extras.onReady?.((at) => worker.postMessage({ type: 'start', at } satisfies TWorkerIn));
          break;
        case 'history':
          for (const e of m.events) {
            history.push(e);
            opts.onHistory?.(e);
          }
          break;
        case 'done':
          finish(() => resolve({ ...m.result, history }));
          break;
        case 'error':
          finish(() => reject(new AppError(m.error.code as never, m.error.message, { issues: m.error.issues as never, details: m.error.details })));
          break;
      }
    });
    worker.on('error', (e) => finish(() => reject(new AppError('INTERNAL', `load engine worker failed: ${e.message}`, { cause: e }))));
    worker.on('exit', (code) => finish(() => reject(new AppError('INTERNAL', `load engine worker exited (${code}) without a result`))));
  });
}
