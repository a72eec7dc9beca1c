/**
 * The built-in load engine, in-process. `runLoad()` (loadtests/index.ts)
 * runs it in a worker thread; tests and benches may call it directly.
 *
 *   setup (users, products) ─▶ executor (registry) ──iterate──▶ shop mix ──▶ send()
 *                                  │ scheduled/dropped/vus          │ samples
 *                                  ▼                                ▼
 *                 1 s window ─▶ onSecond      MetricRegistry (hdr) ─▶ thresholds every 2 s
 *                                                                     └─ abortOnFail ⇒ stop, exit 99
 */
import { randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { performance } from 'node:perf_hooks';
import type * as hdr from 'hdr-histogram-js';
import { Pool, type Dispatcher } from 'undici';
import { AppError } from '../../core/errors.js';
import { parseDuration } from '../duration.js';
import { ENGINE_METRICS, type TScenario } from '../scenario.js';
import { evaluateThresholds, parseMetricSelector, parseThresholdExpression, type TThresholdDef, type TThresholdResult } from '../thresholds.js';
import { EXIT, type THistoryEvent, type TLoadResult, type TLoadSecond } from '../types.js';
import { runExecutor, type TExecutorRuntime, type TVu } from './executors/index.js';
import { send } from './http.js';
import { encodeHistogram, MetricRegistry, newHistogram, percentileMs, recordMs } from './metrics.js';
import { scaleInt, stripedIndices, tupleOf, type TExecutionTuple, type TSegmentSpec } from '../segments.js';
import { requestIteration } from './requests.js';
import { SetupError, shopIteration, shopSetup, type TShopData, type TShopIO } from './shop.js';

/** Bound on remembered dropped iterations awaiting their corrected latency (flat memory). */
const MAX_PENDING_DROPPED = 1_000_000;

export interface TEngineOptions {
  /** Shop gateway base URL (scheme://host:port[/prefix]). */
  baseUrl: string;
  /** Aborting stops the run at once (k6 exit 105). */
  signal?: AbortSignal;
  /** Called once per second of the run with that second's figures. */
  onSecond?: (s: TLoadSecond) => void;
  /** Called for every history event as it happens. */
  onHistory?: (e: THistoryEvent) => void;
  /** Called after each threshold evaluation (every 2 s and at the end). */
  onThresholds?: (r: TThresholdResult[]) => void;
  /**
   * Keep history events in the returned result (memory grows with the run).
   * @defaultValue true
   */
  collectHistory?: boolean;
  /**
   * Run only this k6 execution segment of the scenario: its stripe of
   * arrival-rate iterations and its share of the VUs (k6's
   * `--execution-segment` / `--execution-segment-sequence`).
   * @defaultValue the whole run
   */
  segment?: TSegmentSpec;
  /**
   * Setup data from a setup run once elsewhere (k6 runs setup in every
   * instance; segments of one run share one). When given, no setup runs here.
   */
  setupData?: TShopData;
  /**
   * Make the result mergeable with other segments' results: each second
   * carries its latency histograms (`hdr`) and the result its full metric
   * state (`raw`). Costs one histogram encoding per second.
   * @defaultValue false
   */
  mergeable?: boolean;
  /**
   * Epoch ms at which the load starts (after setup and warm-up), so that
   * segments on several machines start together; the schedule is measured
   * from it, so waking late shows as start lag, not as a shifted schedule.
   * A function is called once this instance is ready (after setup and
   * warm-up) and resolves to the agreed time: how segments in several
   * threads or processes start together.
   * @defaultValue as soon as the warm-up ends
   */
  startAt?: number | (() => Promise<number>);
  /**
   * Send requests through this dispatcher instead of a keep-alive pool to
   * `baseUrl` (benches measuring the engine's own cost; tests).
   */
  dispatcher?: Dispatcher;
  /**
   * Threshold evaluation period in ms (k6: 2 s).
   * @defaultValue 2000
   */
  thresholdPeriodMs?: number;
}

/** Build threshold definitions from a scenario (already validated by the schema). */
export function thresholdDefs(s: TScenario): TThresholdDef[] {
  const defs: TThresholdDef[] = [];
  for (const [key, list] of Object.entries(s.thresholds)) {
    const sel = parseMetricSelector(key);
    for (const t of list) {
      const src = typeof t === 'string' ? t : t.threshold;
      defs.push({
        key: key.trim(),
        metric: sel.metric,
        tags: sel.tags,
        expr: parseThresholdExpression(src),
        abortOnFail: typeof t === 'object' && t.abortOnFail,
        delayAbortEvalMs: typeof t === 'object' && t.delayAbortEval ? parseDuration(t.delayAbortEval)! : 0,
      });
    }
  }
  return defs;
}

/** The most VUs an executor can hold at once (sizes the connection pool). */
export function maxVusOf(s: TScenario): number {
  const l = s.load;
  switch (l.executor) {
    case 'constant-arrival-rate':
    case 'ramping-arrival-rate':
      return l.maxVUs ?? l.preAllocatedVUs;
    case 'constant-vus':
      return l.vus;
    case 'ramping-vus':
      return Math.max(l.startVUs, ...l.stages.map((st) => st.target));
  }
}

/** VUs an executor starts with. */
function initialVusOf(s: TScenario): number {
  const l = s.load;
  switch (l.executor) {
    case 'constant-arrival-rate':
    case 'ramping-arrival-rate':
      return l.preAllocatedVUs;
    case 'constant-vus':
      return l.vus;
    case 'ramping-vus':
      return Math.max(1, l.startVUs);
  }
}

/** n concurrent loops of a few GET /health each: opens n connections and warms both sides' request paths. */
async function warmUp(pool: Dispatcher, prefix: string, n: number, signal: AbortSignal): Promise<void> {
  await Promise.all(
    Array.from({ length: n }, async () => {
      for (let i = 0; i < 5 && !signal.aborted; i++) await send(pool, { method: 'GET', path: `${prefix}/health`, timeoutMs: 2000, signal, readBody: false });
    }),
  );
}

interface TWindow {
  reqs: number;
  errors: Record<string, number>;
  dur: hdr.Histogram;
  cdur: hdr.Histogram;
}

function newWindow(): TWindow {
  return { reqs: 0, errors: {}, dur: newHistogram(), cdur: newHistogram() };
}

/** Empty a window for the next second, reusing its histograms (no per-second allocation). */
function resetWindow(w: TWindow): void {
  w.reqs = 0;
  w.errors = {};
  w.dur.reset();
  w.cdur.reset();
}

/** The gateway's origin and path prefix; a bad URL is a field error. */
function parseBaseUrl(baseUrl: string): { origin: string; prefix: string } {
  let base: URL;
  try {
    base = new URL(baseUrl);
  } catch {
    throw new AppError('VALIDATION', 'invalid base URL', { issues: [{ path: 'baseUrl', message: `"${baseUrl}" is not a URL` }] });
  }
  return { origin: base.origin, prefix: base.pathname.replace(/\/$/, '') };
}

/** The setup failed: k6's script exception. */
function setupFailed(baseUrl: string, e: unknown): AppError {
  const msg = e instanceof SetupError ? e.message : (e as Error).message;
  return new AppError('UNAVAILABLE', `setup failed against ${baseUrl}: ${msg}`, { details: { exitCode: EXIT.SCRIPT_EXCEPTION } });
}

/**
 * One run's state (configuration stays on the scenario): its clock, the
 * current second's window, the VU counts, the metrics and why it stopped.
 */
class EngineRun {
  t0 = performance.now();
  /** Set when the load starts (after setup and warm-up): from then on requests count in seconds and carry the scenario tag. */
  measuring = false;
  readonly win = newWindow();
  activeVus = 0;
  vusMax = 0;
  readonly stop = new AbortController();
  abortReason: string | undefined;
  exitOverride: number | undefined;
  readonly defs: TThresholdDef[];
  readonly metrics: MetricRegistry;
  readonly elapsed = () => performance.now() - this.t0;

  constructor(s: TScenario) {
    this.defs = thresholdDefs(s);
    const submetrics = [
      { name: 'http_req_duration{expected_response:true}', metric: 'http_req_duration', tags: { expected_response: 'true' } },
      ...this.defs.filter((d) => Object.keys(d.tags).length).map((d) => ({ name: d.key, metric: d.metric, tags: d.tags })),
    ];
    this.metrics = new MetricRegistry(ENGINE_METRICS, submetrics, this.elapsed);
    // every in-flight request listens on the run's signals: hundreds by design
    setMaxListeners(0, this.stop.signal);
  }

  /** Stop the run (the first reason and exit code win). */
  abort(reason: string, exitCode: number): void {
    this.abortReason ??= reason;
    this.exitOverride ??= exitCode;
    this.stop.abort(new Error(reason));
  }
}

/** History events: numbered and timed, kept when `collectHistory`, handed to `onHistory`. */
function historyOf(opts: TEngineOptions) {
  const collect = opts.collectHistory ?? true;
  const history: THistoryEvent[] = [];
  let historyIndex = 0;
  const emit = (e: Omit<THistoryEvent, 'index' | 'time'>) => {
    if (!collect && !opts.onHistory) return;
    const ev: THistoryEvent = { index: historyIndex++, time: Math.round(performance.timeOrigin + performance.now()), ...e };
    if (ev.value.error === undefined) delete ev.value.error;
    if (collect) history.push(ev);
    opts.onHistory?.(ev);
  };
  return { history, emit, on: collect || opts.onHistory !== undefined };
}

/** The shop mix's I/O for one iteration: sends a request and records its metrics (the hot path). */
function requestIO(run: EngineRun, s: TScenario, pool: Dispatcher, prefix: string, hist: ReturnType<typeof historyOf>) {
  const timeoutMs = parseDuration(s.http.timeout)!;
  const { metrics, win } = run;
  // Tag sets are few (request kind × method × status) and immutable: built once
  // and reused, so the hot path allocates no tag objects and the registry can
  // remember which sub-metrics each set feeds (addStable). At thousands of
  // requests per second the per-request spreads were a steady GC load.
  const tagCache = new Map<string, { tags: Record<string, string>; checkTags: Record<string, string> }>();
  const requestTags = (f: string, method: string, status: number, expectedStatus: number) => {
    const key = `${run.measuring ? 1 : 0}|${f}|${method}|${status}|${expectedStatus}`;
    let t = tagCache.get(key);
    if (!t) {
      const tags: Record<string, string> = {
        ...s.tags,
        ...(run.measuring ? { scenario: s.name } : {}),
        name: f,
        method,
        status: String(status),
        expected_response: String(status >= 200 && status <= 399),
      };
      t = { tags: Object.freeze(tags), checkTags: Object.freeze({ ...tags, check: `${f} status ${expectedStatus}` }) };
      tagCache.set(key, t);
    }
    return t;
  };
  return (ctx: { intended: number; signal: AbortSignal }): TShopIO => ({
    history: hist.emit,
    historyOn: hist.on,
    async call(f, req) {
      const headers: Record<string, string> = { ...req.headers };
      if (req.token) headers.authorization = `Bearer ${req.token}`;
      if (req.idempotencyKey) headers['idempotency-key'] = req.idempotencyKey;
      const r = await send(pool, {
        method: req.method,
        path: prefix + req.path,
        headers,
        body: req.body,
        timeoutMs,
        signal: ctx.signal,
        readBody: req.readBody,
      });
      const measuring = run.measuring;
      const latencyMs = r.tEnd - r.tStart;
      const correctedLatencyMs = r.tEnd - (run.t0 + ctx.intended);
      if (!r.interrupted) {
        const expected = r.status >= 200 && r.status <= 399;
        const { tags, checkTags } = requestTags(f, req.method, r.status, req.expected);
        metrics.addStable('http_reqs', 1, tags);
        metrics.addStable('http_req_duration', latencyMs, tags);
        metrics.addStable('http_req_waiting', r.tHeaders - r.tStart, tags);
        metrics.addStable('http_req_receiving', r.tEnd - r.tHeaders, tags);
        metrics.addStable('http_req_failed', !expected, tags);
        metrics.addStable('http_req_corrected_duration', measuring ? correctedLatencyMs : latencyMs, tags);
        metrics.addStable('checks', r.status === req.expected, checkTags);
        if (measuring) {
          win.reqs++;
          recordMs(win.dur, latencyMs);
          recordMs(win.cdur, correctedLatencyMs);
          if (!expected) {
            const kind = r.errorKind ?? `http_${r.status}`;
            win.errors[kind] = (win.errors[kind] ?? 0) + 1;
          }
        }
      }
      return {
        status: r.status,
        json: r.json,
        errorKind: r.errorKind,
        interrupted: r.interrupted,
        latencyMs,
        correctedLatencyMs: measuring ? correctedLatencyMs : latencyMs,
      };
    },
  });
}

/** Wait for the agreed start (asked for only now, when this segment is ready) and start the clock there. */
async function startClock(run: EngineRun, opts: TEngineOptions): Promise<number> {
  const startAt = typeof opts.startAt === 'function' ? await opts.startAt() : opts.startAt;
  if (startAt !== undefined && !run.stop.signal.aborted) {
    const wait = startAt - (performance.timeOrigin + performance.now());
    if (wait > 0)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, wait);
        run.stop.signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
      });
  }
  run.t0 = startAt !== undefined ? startAt - performance.timeOrigin : performance.now();
  run.measuring = true;
  return Math.round(performance.timeOrigin + run.t0);
}

/** The per-second figures: one TLoadSecond per second of the run, flushed on a timer aligned to the clock. */
function secondsOf(run: EngineRun, opts: TEngineOptions, runStartedEpoch: number) {
  const seconds: TLoadSecond[] = [];
  let secondIndex = 0;
  // scheduled and dropped iterations count in the second they were due, even
  // when a busy machine processes them after that second's flush
  const dueBySecond = new Map<number, { scheduled: number; dropped: number }>();
  const dueAt = (atMs: number) => {
    const k = Math.floor(atMs / 1000);
    let b = dueBySecond.get(k);
    if (!b) dueBySecond.set(k, (b = { scheduled: 0, dropped: 0 }));
    return b;
  };
  const flush = () => {
    const w = run.win;
    // this second's due iterations, plus any of earlier seconds processed after their flush
    let target = 0;
    let dropped = 0;
    for (const [k, b] of dueBySecond) {
      if (k > secondIndex) continue;
      target += b.scheduled;
      dropped += b.dropped;
      dueBySecond.delete(k);
    }
    const sec: TLoadSecond = {
      t: runStartedEpoch + secondIndex * 1000,
      rps: w.reqs,
      errorsByKind: w.errors,
      p50: percentileMs(w.dur, 50),
      p95: percentileMs(w.dur, 95),
      p99: percentileMs(w.dur, 99),
      cp50: percentileMs(w.cdur, 50),
      cp95: percentileMs(w.cdur, 95),
      cp99: percentileMs(w.cdur, 99),
      activeVus: run.activeVus,
      dropped,
      target,
      ...(opts.mergeable ? { hdr: { dur: encodeHistogram(w.dur), cdur: encodeHistogram(w.cdur) } } : {}),
    };
    resetWindow(w);
    secondIndex++;
    seconds.push(sec);
    run.metrics.add('vus', run.activeVus);
    run.metrics.add('vus_max', run.vusMax);
    opts.onSecond?.(sec);
  };
  let secTimer: NodeJS.Timeout | undefined;
  const schedule = () => {
    secTimer = setTimeout(
      () => {
        flush();
        schedule();
      },
      Math.max(0, run.t0 + (secondIndex + 1) * 1000 - performance.now()),
    );
  };
  return {
    seconds,
    dueAt,
    /** Start the timer; returns its stop. */
    start: () => (schedule(), () => clearTimeout(secTimer)),
    /** Flush what is left after the run: the last, partial second still carries data. */
    flushRest: () => {
      while (run.win.reqs > 0 || dueBySecond.size > 0 || seconds.length === 0) flush();
    },
  };
}

/** Evaluate the thresholds (every period and at the end); an abortOnFail one that fails stops the run. */
function thresholdsOf(run: EngineRun, opts: TEngineOptions) {
  let last: TThresholdResult[] = [];
  const evaluate = () => {
    const { results, abort } = evaluateThresholds(run.defs, run.metrics, run.elapsed());
    last = results;
    opts.onThresholds?.(results);
    if (abort && !run.stop.signal.aborted) run.abort(`threshold ${abort.metric} ${abort.expression} crossed (abortOnFail)`, EXIT.THRESHOLDS_FAILED);
  };
  return { evaluate, last: () => last };
}

/** Sleep until `tMs` on the run's clock; an abort wakes every sleeper. */
function sleeperOf(run: EngineRun): (tMs: number) => Promise<void> {
  const sleepers = new Set<() => void>();
  run.stop.signal.addEventListener('abort', () => {
    for (const w of sleepers) w();
  });
  return (tMs) =>
    new Promise<void>((resolve) => {
      if (run.stop.signal.aborted) return resolve();
      let timer: NodeJS.Timeout | undefined;
      const wake = () => {
        clearTimeout(timer);
        sleepers.delete(wake);
        resolve();
      };
      // libuv timers have 1 ms granularity and may fire up to 1 ms early against the
      // high-resolution clock: re-arm until due, never start early. A sub-ms remainder
      // waits one more timer tick (≤ ~1 ms late, visible in iteration_start_lag) rather
      // than spinning, which would take a CPU from the system under test.
      const check = () => {
        const left = tMs - run.elapsed();
        if (left <= 0) wake();
        else timer = setTimeout(check, Math.max(1, Math.floor(left)));
      };
      sleepers.add(wake);
      check();
    });
}

/** What the executor drives: the clock, VUs, one iteration of the mix, and the schedule's bookkeeping. */
function executorRuntime(
  run: EngineRun,
  s: TScenario,
  data: TShopData,
  makeIO: ReturnType<typeof requestIO>,
  dueAt: (atMs: number) => { scheduled: number; dropped: number },
  tuple: TExecutionTuple,
) {
  const { metrics } = run;
  const scenarioTags = Object.freeze({ ...s.tags, scenario: s.name });
  // Coordinated-omission correction for dropped iterations (k6 drops them and
  // measures nothing, which makes its latencies optimistic). A dropped
  // iteration could at best have run on the next VU that became free, i.e.
  // alongside the next iteration that starts: every iteration dropped (due at
  // `d`) before an iteration starts is bound to it and enters the corrected
  // histogram as (that iteration's end − d). A lower bound of the truth, like
  // wrk2's synthesised samples; k6's http_req_duration is left as k6 has it.
  const pendingDropped: number[] = [];
  const resolveDropped = (due: number[], end: number) => {
    for (const d of due) {
      const v = end - d;
      metrics.addStable('http_req_corrected_duration', v, scenarioTags);
      recordMs(run.win.cdur, v);
    }
  };
  // A VU's number is its number across the whole test (k6's exec.vu.idInTest): the segment's
  // VUs take the global numbers its stripe owns, so `${vu}` and the history's processes of two
  // segments never collide (unsplit: 1, 2, 3, …).
  const vuIds = stripedIndices(tuple);
  const rt: TExecutorRuntime = {
    now: run.elapsed,
    get stopped() {
      return run.stop.signal.aborted;
    },
    hardSignal: run.stop.signal,
    sleepUntil: sleeperOf(run),
    newVu(): TVu {
      run.vusMax++;
      return { id: vuIds.next().value + 1 };
    },
    async iterate(vu, intendedMs, signal) {
      const start = performance.now();
      const ctx = { intended: intendedMs, signal };
      const bound = pendingDropped.length ? pendingDropped.splice(0) : undefined;
      try {
        if (s.requests) await requestIteration(s, makeIO(ctx), vu.id);
        else await shopIteration(s, data, makeIO(ctx), vu.id);
      } catch {
        // the mix never throws by design; an unexpected bug still counts the iteration (k6 counts thrown iterations)
      }
      if (bound) resolveDropped(bound, run.elapsed());
      if (signal.aborted) return; // interrupted: k6 emits neither iterations nor iteration_duration
      metrics.addStable('iteration_start_lag', Math.max(0, start - (run.t0 + intendedMs)), scenarioTags);
      metrics.addStable('iterations', 1, scenarioTags);
      metrics.addStable('iteration_duration', performance.now() - start, scenarioTags);
    },
    scheduled(atMs) {
      dueAt(atMs).scheduled++;
    },
    dropped(atMs) {
      if (pendingDropped.length < MAX_PENDING_DROPPED) pendingDropped.push(atMs);
      dueAt(atMs).dropped++;
      metrics.addStable('dropped_iterations', 1, scenarioTags);
    },
    vuActive(d) {
      run.activeVus += d;
    },
  };
  // dropped at the very end with no VU freed afterwards: they waited at least until `end`
  const resolveRest = (end: number) => {
    if (pendingDropped.length) resolveDropped(pendingDropped.splice(0), end);
  };
  return { rt, resolveRest };
}

/** The run's summary (k6's end-of-test metrics with threshold marks) and exit code. */
function resultOf(run: EngineRun, thresholds: TThresholdResult[], runMs: number) {
  const summary = run.metrics.summary();
  // counters' rate over the whole run, like k6's testRunDuration
  for (const m of Object.values(summary)) if (m.type === 'counter') m.values.rate = m.values.count / Math.max(1e-9, runMs / 1000);
  for (const t of thresholds) {
    const m = summary[t.metric];
    if (m) (m.thresholds ??= {})[t.expression] = { ok: t.ok };
  }
  const failed = thresholds.some((t) => !t.ok);
  return { summary, exitCode: run.exitOverride ?? (failed ? EXIT.THRESHOLDS_FAILED : EXIT.OK) };
}

export async function runEngine(s: TScenario, opts: TEngineOptions): Promise<TLoadResult> {
  // parse the segment first: a bad one is a field error before any request
  const tuple = tupleOf(opts.segment);
  const hist = historyOf(opts);
  const { origin, prefix } = parseBaseUrl(opts.baseUrl);
  const pool: Dispatcher = opts.dispatcher ?? new Pool(origin, { connections: scaleInt(tuple, maxVusOf(s)) + 10, pipelining: 1, keepAliveTimeout: 30_000 });
  const startedAt = Date.now();
  const run = new EngineRun(s);
  const onExternalAbort = () => run.abort('aborted', EXIT.EXTERNAL_ABORT);
  if (opts.signal?.aborted) onExternalAbort();
  opts.signal?.addEventListener('abort', onExternalAbort, { once: true });
  const makeIO = requestIO(run, s, pool, prefix, hist);

  const cleanup: (() => void)[] = [() => opts.signal?.removeEventListener('abort', onExternalAbort)];
  try {
    // ── setup ──
    let data: TShopData;
    const runTag = `${startedAt.toString(36)}${randomBytes(3).toString('hex')}`;
    try {
      // a plain-HTTP scenario has no setup (no shop users or products)
      data = opts.setupData ?? (s.requests ? { users: [], products: [] } : await shopSetup(s, makeIO({ intended: 0, signal: run.stop.signal }), runTag));
    } catch (e) {
      if (run.stop.signal.aborted) data = { users: [], products: [] };
      else throw setupFailed(opts.baseUrl, e);
    }

    // ── warm-up ──
    // Open the keep-alive connections the pre-allocated VUs will use and warm
    // the request path (JIT, lazily loaded modules) before the clock starts,
    // so the first second measures the shop, not our TCP handshakes. Not
    // recorded anywhere; GET /health is served by every shop instance.
    // every pre-allocated VU's connection (bounded): a connection opened mid-run costs
    // both sides a handshake exactly when the run is busiest, and at high rates a
    // burst of them stalled the loop long enough to drop iterations
    await warmUp(pool, prefix, Math.min(1000, scaleInt(tuple, initialVusOf(s))), run.stop.signal);

    // ── run ──
    const runStartedEpoch = await startClock(run, opts);
    const secs = secondsOf(run, opts, runStartedEpoch);
    cleanup.push(secs.start());
    const thr = thresholdsOf(run, opts);
    const thrTimer = setInterval(thr.evaluate, opts.thresholdPeriodMs ?? 2000);
    cleanup.push(() => clearInterval(thrTimer));
    const { rt, resolveRest } = executorRuntime(run, s, data, makeIO, secs.dueAt, tuple);
    run.metrics.add('vus', 0);
    await runExecutor(s.load, rt, tuple);
    const runMs = run.elapsed();
    resolveRest(runMs);
    for (const c of cleanup.splice(1)) c();
    secs.flushRest();
    run.metrics.add('vus', 0);
    thr.evaluate();
    const { summary, exitCode } = resultOf(run, thr.last(), runMs);
    return {
      engine: 'builtin',
      startedAt,
      endedAt: Date.now(),
      exitCode,
      metrics: summary,
      thresholds: thr.last(),
      seconds: secs.seconds,
      history: hist.history,
      ...(run.abortReason ? { abortReason: run.abortReason } : {}),
      ...(opts.mergeable ? { raw: { loadStartedAt: runStartedEpoch, runMs, metrics: run.metrics.toRaw() } } : {}),
    };
  } finally {
    for (const c of cleanup) c();
    // a caller's dispatcher is the caller's to close
    if (!opts.dispatcher) await pool.close().catch(() => pool.destroy());
  }
}

/**
 * The scenario's setup alone (register + log in users, pick products), run
 * once for a run split into segments: its data is handed to every segment
 * (`setupData`, or FAULTLINE_SETUP_DATA for k6) so that N generators do not
 * register N sets of users. History events are the setup's (process 0).
 */
export async function runSetup(s: TScenario, opts: { baseUrl: string; signal?: AbortSignal; onHistory?: (e: THistoryEvent) => void }): Promise<TShopData> {
  const { origin, prefix } = parseBaseUrl(opts.baseUrl);
  const pool = new Pool(origin, { connections: 10, pipelining: 1 });
  const timeoutMs = parseDuration(s.http.timeout)!;
  const signal = opts.signal ?? new AbortController().signal;
  let index = 0;
  const io: TShopIO = {
    history: (e) => opts.onHistory?.({ index: index++, time: Date.now(), ...e }),
    async call(_f, req) {
      const headers: Record<string, string> = {};
      if (req.token) headers.authorization = `Bearer ${req.token}`;
      const r = await send(pool, { method: req.method, path: prefix + req.path, headers, body: req.body, timeoutMs, signal, readBody: req.readBody });
      const latencyMs = r.tEnd - r.tStart;
      return { status: r.status, json: r.json, errorKind: r.errorKind, interrupted: r.interrupted, latencyMs, correctedLatencyMs: latencyMs };
    },
  };
  try {
    if (s.requests) return { users: [], products: [] };
    return await shopSetup(s, io, `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`);
  } catch (e) {
    throw setupFailed(opts.baseUrl, e);
  } finally {
    await pool.close().catch(() => pool.destroy());
  }
}

/** Setup data in the shape the k6 scripts' setup() returns (loadtests/k6/lib/shop.js). */
export function k6SetupData(d: TShopData, runTag: string): { runTag: string; users: { token: string; userId?: string }[]; products: TShopData['products'] } {
  return { runTag, users: d.users.map((u) => ({ token: u.token, ...(u.userId ? { userId: u.userId } : {}) })), products: d.products };
}
