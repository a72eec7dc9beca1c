/**
 * SLO evaluation for one run, from the client's history (twice: with the
 * corrected latency of the open model, and k6-style from the moment the
 * request was sent) and from the servers' scraped histograms.
 *
 *   history ─┐                      ┌─ SLI = good/valid, pass vs objective
 *            ├─▶ per-second bins ──▶├─ run budget used = bad / ((1 − objective) · valid)
 *   samples ─┘  {good, valid}       └─ worst burn over 1 min and 5 min windows
 *
 * Burn rate = (bad/valid) / (1 − objective) (slo.md): 1 spends exactly the
 * budget over the SLO period, 14.4 is the Workbook's page threshold.
 *
 * The error budget is judged on the run itself: the run is allowed
 * (1 − objective) × its own valid events bad ones, and "budget used" is the
 * share of those it spent (100 % = exactly at the objective). A share of a
 * 30-day budget says nothing about a one-minute run.
 */
import type { TSlo } from '../../experiments/index.js';
import type { TSliFigures, TSliSource, TSloResult } from '../reports/schema.js';
import { routeOfEvent, type THistoryEventLike, type TMetricSample } from './types.js';

/** Per-second good/valid counts, keyed by the second's start (epoch ms). */
export type TBins = Map<number, { good: number; valid: number }>;

function bin(bins: TBins, t: number, good: boolean): void {
  const s = Math.floor(t / 1000) * 1000;
  const b = bins.get(s) ?? { good: 0, valid: 0 };
  b.valid += 1;
  if (good) b.good += 1;
  bins.set(s, b);
}

/** Status of the answer the client got; undefined when it got none (timeout, refused, reset: status 0). */
function answered(e: THistoryEventLike): number | undefined {
  const st = e.value.status;
  return st !== undefined && st > 0 ? st : undefined;
}

/**
 * Availability: a response the shop meant (2xx, or a 4xx such as 402 declined
 * or 409 out of stock) is good; 5xx, 429 (shed load) and no answer at all
 * (timeout, transport error) are bad. The history type alone does not decide:
 * the load engine marks a checkout's 503 `info` (its effect is unknown), yet
 * the client did get a 503.
 */
export function isAvailable(e: THistoryEventLike): boolean {
  if (e.type === 'ok') return true;
  const s = answered(e);
  return s !== undefined && s < 500 && s !== 429;
}

/**
 * Classify the client history for one SLO into per-second bins. Latency:
 * any answer (even a fast error) within the threshold is good, since the
 * availability SLI already judges errors; no answer at all is bad.
 * Events with no latency of the requested kind are not valid for latency.
 */
export function clientBins(history: readonly THistoryEventLike[], slo: TSlo, kind: 'corrected' | 'k6'): { bins: TBins; skipped: number } {
  const bins: TBins = new Map();
  let skipped = 0;
  for (const e of history) {
    if (e.type === 'invoke' || routeOfEvent(e) !== slo.route) continue;
    if (slo.sli === 'availability') {
      bin(bins, e.time, isAvailable(e));
      continue;
    }
    if (e.type !== 'ok' && answered(e) === undefined) {
      bin(bins, e.time, false);
      continue;
    }
    const lat = kind === 'corrected' ? (e.correctedLatencyMs ?? e.latencyMs) : e.latencyMs;
    if (lat === undefined) {
      skipped += 1;
      continue;
    }
    bin(bins, e.time, lat <= (slo.threshold_ms ?? Infinity));
  }
  return { bins, skipped };
}

function seriesKey(s: TMetricSample): string {
  const labels = Object.keys(s.labels)
    .sort()
    .map((k) => `${k}=${s.labels[k]}`)
    .join(',');
  return `${s.instance}|${s.metric}|${labels}`;
}

/**
 * Turn cumulative samples into increases attributed to the scrape time.
 * A drop in value is a counter reset (process restart): the new value is the
 * increase since the reset. A series first seen after its instance's first
 * scrape was created during the run (prom-client creates a label set on first
 * use), so its first value counts in full; series present at the first scrape
 * are the baseline.
 */
export function counterIncreases(samples: readonly TMetricSample[]): { t: number; sample: TMetricSample; inc: number }[] {
  const firstScrape = new Map<string, number>();
  for (const s of samples) firstScrape.set(s.instance, Math.min(firstScrape.get(s.instance) ?? Infinity, s.t));
  const bySeries = new Map<string, TMetricSample[]>();
  for (const s of samples) {
    const k = seriesKey(s);
    const arr = bySeries.get(k);
    if (arr) arr.push(s);
    else bySeries.set(k, [s]);
  }
  const out: { t: number; sample: TMetricSample; inc: number }[] = [];
  for (const arr of bySeries.values()) {
    arr.sort((a, b) => a.t - b.t);
    let prev: number | undefined;
    for (const s of arr) {
      let inc: number;
      if (prev === undefined) inc = s.t > (firstScrape.get(s.instance) ?? s.t) ? s.value : 0;
      else inc = s.value >= prev ? s.value - prev : s.value;
      prev = s.value;
      if (inc > 0) out.push({ t: s.t, sample: s, inc });
    }
  }
  return out;
}

const HIST = 'http_server_request_duration_seconds';

/** Options of the server-side SLI. */
export interface TServerSliOptions {
  /**
   * Service whose server histogram measures the public route (the gateway is
   * what clients talk to).
   * @defaultValue 'gateway'
   */
  service?: string;
  /**
   * The request-duration histogram and its labels (a target file's `metrics.requests`).
   * @defaultValue http_server_request_duration_seconds with labels route, method, status, in seconds
   */
  histogram?: { name: string; route: string; method?: string; status: string; unit: 'seconds' | 'milliseconds' };
}

const SHOP_HISTOGRAM = { name: HIST, route: 'route', method: 'method', status: 'status', unit: 'seconds' } as const;

/** Bins from the server histograms of one route, plus which bucket was used for latency. */
export function serverBins(samples: readonly TMetricSample[], slo: TSlo, opts: TServerSliOptions = {}): { bins: TBins; note?: string; seen: number } {
  const service = opts.service ?? 'gateway';
  const h = opts.histogram ?? SHOP_HISTOGRAM;
  const HIST = h.name;
  const [method, route] = slo.route.split(' ');
  const mine = samples.filter(
    (s) =>
      (s.metric === `${HIST}_bucket` || s.metric === `${HIST}_count`) &&
      (s.labels.service ?? s.service) === service &&
      s.labels[h.route] === route &&
      (h.method === undefined || s.labels[h.method] === method),
  );
  const bins: TBins = new Map();
  if (mine.length === 0) return { bins, seen: 0, note: `no ${HIST} samples for ${service} ${slo.route}` };
  const incs = counterIncreases(mine);
  const badStatus = (st: string | undefined) => st !== undefined && (st.startsWith('5') || st === '429');
  let note: string | undefined;
  let le: string | undefined;
  if (slo.sli === 'latency') {
    const perSecond = h.unit === 'milliseconds' ? 1000 : 1;
    const limit = ((slo.threshold_ms ?? 0) / 1000) * perSecond;
    const les = [...new Set(mine.filter((s) => s.metric.endsWith('_bucket')).map((s) => s.labels.le))]
      .filter((l) => l !== undefined && l !== '+Inf')
      .map(Number)
      .filter((n) => n <= limit + 1e-9)
      .sort((a, b) => b - a);
    if (les.length === 0) return { bins, seen: mine.length, note: `no histogram bucket at or below ${slo.threshold_ms} ms` };
    le = String(les[0]);
    if (Math.abs((les[0] * 1000) / perSecond - (slo.threshold_ms ?? 0)) > 1e-6)
      note = `bucket le=${les[0]}${h.unit === 'milliseconds' ? 'ms' : 's'} used for threshold ${slo.threshold_ms} ms (conservative)`;
  }
  // Increases are counted per (second) bin; a count never splits, so bins hold
  // numbers of requests rather than single events.
  const add = (t: number, good: number, valid: number) => {
    const s = Math.floor(t / 1000) * 1000;
    const b = bins.get(s) ?? { good: 0, valid: 0 };
    b.good += good;
    b.valid += valid;
    bins.set(s, b);
  };
  const hasCount = mine.some((s) => s.metric === `${HIST}_count`);
  for (const { t, sample, inc } of incs) {
    const st = sample.labels[h.status];
    const isTotal = hasCount ? sample.metric === `${HIST}_count` : sample.labels.le === '+Inf';
    if (slo.sli === 'availability') {
      if (isTotal) add(t, badStatus(st) ? 0 : inc, inc);
    } else {
      if (isTotal) add(t, 0, inc);
      if (sample.metric === `${HIST}_bucket` && Number(sample.labels.le) === Number(le)) add(t, inc, 0);
    }
  }
  return { bins, note, seen: mine.length };
}

/** Worst burn rate over sliding windows of `windowMs` ending at each second (full windows only; the whole run when shorter). */
export function worstBurn(bins: TBins, objective: number, windowMs: number, runStart: number, runEnd: number): number | null {
  const allowed = 1 - objective / 100;
  if (bins.size === 0) return null;
  const start = Math.floor(runStart / 1000) * 1000;
  const end = Math.ceil(runEnd / 1000) * 1000;
  const n = Math.max(0, (end - start) / 1000);
  // prefix sums over the run's seconds: each window is two lookups
  const good = new Float64Array(n + 1);
  const valid = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) {
    const b = bins.get(start + i * 1000);
    good[i + 1] = good[i] + (b?.good ?? 0);
    valid[i + 1] = valid[i] + (b?.valid ?? 0);
  }
  const span = Math.min(Math.round(windowMs / 1000), n);
  let worst: number | null = null;
  for (let e = span; e <= n; e++) {
    const v = valid[e] - valid[e - span];
    if (v === 0) continue;
    const burn = (v - (good[e] - good[e - span])) / v / allowed;
    if (worst === null || burn > worst) worst = burn;
  }
  return worst;
}

/** Figures of one SLO from one source's bins. */
export function figuresFromBins(source: TSliSource, bins: TBins, slo: TSlo, runStart: number, runEnd: number, note?: string): TSliFigures {
  let good = 0;
  let valid = 0;
  for (const b of bins.values()) {
    good += b.good;
    valid += b.valid;
  }
  if (valid === 0)
    return {
      source,
      good,
      valid,
      sli: null,
      pass: null,
      bad: 0,
      allowedBad: 0,
      budgetConsumedPct: null,
      worstBurn1m: null,
      worstBurn5m: null,
      note: note ?? 'no valid events',
    };
  const sli = (good / valid) * 100;
  const allowedBad = (1 - slo.objective / 100) * valid;
  return {
    source,
    good,
    valid,
    sli,
    pass: sli >= slo.objective,
    bad: valid - good,
    allowedBad,
    budgetConsumedPct: ((valid - good) / allowedBad) * 100,
    worstBurn1m: worstBurn(bins, slo.objective, 60_000, runStart, runEnd),
    worstBurn5m: worstBurn(bins, slo.objective, 300_000, runStart, runEnd),
    ...(note ? { note } : {}),
  };
}

/** Input of evaluateSlos. */
export interface TEvaluateSlosInput {
  slos: readonly TSlo[];
  history: readonly THistoryEventLike[];
  /** Scraped samples; empty when the collector did not run (server figures then say so). */
  samples: readonly TMetricSample[];
  /** Load start and end (epoch ms): the period the SLOs are judged over. */
  runStart: number;
  runEnd: number;
  server?: TServerSliOptions;
}

/**
 * Evaluate every SLO. The verdict comes from the corrected client figures:
 * the client sees timeouts, refused connections and queueing that no server
 * histogram records. k6-style and server figures are shown next to it so a
 * gap between them (coordinated omission, lost requests) is visible.
 */
export function evaluateSlos(input: TEvaluateSlosInput): TSloResult[] {
  const { runStart, runEnd } = input;
  return input.slos.map((slo) => {
    const corrected = clientBins(input.history, slo, 'corrected');
    const k6 = clientBins(input.history, slo, 'k6');
    const server = serverBins(input.samples, slo, input.server);
    const skippedNote = (n: number) => (n > 0 ? `${n} events without latency not counted` : undefined);
    const figures = [
      figuresFromBins('client-corrected', corrected.bins, slo, runStart, runEnd, skippedNote(corrected.skipped)),
      figuresFromBins('client-k6', k6.bins, slo, runStart, runEnd, skippedNote(k6.skipped)),
      figuresFromBins('server', server.bins, slo, runStart, runEnd, server.note),
    ];
    return {
      name: slo.name,
      route: slo.route,
      sli: slo.sli,
      objective: slo.objective,
      thresholdMs: slo.threshold_ms ?? null,
      windowMs: slo.window,
      verdict: figures[0].pass === true ? 'pass' : 'fail',
      decidedBy: 'client-corrected',
      figures,
    };
  });
}

/**
 * Burn rate of one SLO over the last `windowMs` of a live history, for abort
 * conditions evaluated while the run goes on. null until there is an event.
 */
export function currentBurn(history: readonly THistoryEventLike[], slo: TSlo, now: number, windowMs: number): number | null {
  const { bins } = clientBins(
    history.filter((e) => e.time > now - windowMs && e.time <= now),
    slo,
    'corrected',
  );
  let good = 0;
  let valid = 0;
  for (const b of bins.values()) {
    good += b.good;
    valid += b.valid;
  }
  return valid === 0 ? null : (valid - good) / valid / (1 - slo.objective / 100);
}
