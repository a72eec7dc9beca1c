/**
 * Parsers for real k6 output into faultline's result model (pure; tested on
 * the recorded k6 v1.3.0 fixtures):
 *
 *   handleSummary data  ─▶ metrics + thresholds (preferred: has types)
 *   --summary-export    ─▶ same, from the legacy flattened shape
 *   --out json points   ─▶ per-second series (TLoadSecond)
 *   --log-format=json   ─▶ history events the scripts log as `faultline.history {...}`
 *
 * k6 cannot measure latency from an iteration's intended start, so k6 runs
 * carry no `http_req_corrected_duration` and their per-second cp* figures
 * repeat the k6-style p* ones.
 */
import { encodeHistogram, newHistogram, percentileMs, recordMs } from '../engine/metrics.js';
import type { TThresholdResult } from '../thresholds.js';
import type { THistoryEvent, TK6SummaryMetric, TLoadSecond } from '../types.js';

type TMetricType = TK6SummaryMetric['type'];

/** handleSummary(data).metrics → metrics and threshold results. */
export function fromHandleSummary(data: unknown): { metrics: Record<string, TK6SummaryMetric>; thresholds: TThresholdResult[]; durationMs?: number } {
  const d = data as { metrics?: Record<string, TK6SummaryMetric>; state?: { testRunDurationMs?: number } };
  if (!d || typeof d !== 'object' || !d.metrics || typeof d.metrics !== 'object') throw new Error('not k6 handleSummary data: no "metrics" object');
  const metrics: Record<string, TK6SummaryMetric> = {};
  const thresholds: TThresholdResult[] = [];
  for (const [name, m] of Object.entries(d.metrics)) {
    metrics[name] = { type: m.type, contains: m.contains, values: { ...m.values }, ...(m.thresholds ? { thresholds: { ...m.thresholds } } : {}) };
    for (const [expression, t] of Object.entries(m.thresholds ?? {})) thresholds.push({ metric: name, expression, ok: t.ok });
  }
  sortThresholds(thresholds);
  return { metrics, thresholds, durationMs: d.state?.testRunDurationMs };
}

/**
 * The legacy `--summary-export` file: values flattened next to `thresholds`
 * (`{expr: failed}`), rate metrics' `rate` renamed `value`. Types are not in
 * the file: `types` (from the json output's Metric lines) wins, else inferred.
 */
export function fromSummaryExport(
  data: unknown,
  types: Record<string, { type: TMetricType; contains: TK6SummaryMetric['contains'] }> = {},
): { metrics: Record<string, TK6SummaryMetric>; thresholds: TThresholdResult[] } {
  const d = data as { metrics?: Record<string, Record<string, unknown>> };
  if (!d || typeof d !== 'object' || !d.metrics || typeof d.metrics !== 'object') throw new Error('not a k6 --summary-export file: no "metrics" object');
  const metrics: Record<string, TK6SummaryMetric> = {};
  const thresholds: TThresholdResult[] = [];
  for (const [name, raw] of Object.entries(d.metrics)) {
    const { thresholds: thr, ...vals } = raw as Record<string, number> & { thresholds?: Record<string, boolean> };
    const base = name.replace(/\{.*$/, '');
    const known = types[name] ?? types[base];
    const type: TMetricType = known?.type ?? ('passes' in vals ? 'rate' : 'count' in vals ? 'counter' : 'avg' in vals || 'med' in vals ? 'trend' : 'gauge');
    const values: Record<string, number> = { ...vals };
    if (type === 'rate') {
      values.rate = vals.value;
      delete values.value;
    }
    const m: TK6SummaryMetric = { type, contains: known?.contains ?? (type === 'trend' ? 'time' : 'default'), values };
    if (thr) {
      m.thresholds = {};
      for (const [expression, failed] of Object.entries(thr)) {
        m.thresholds[expression] = { ok: !failed };
        thresholds.push({ metric: name, expression, ok: !failed });
      }
    }
    metrics[name] = m;
  }
  sortThresholds(thresholds);
  return { metrics, thresholds };
}

function sortThresholds(t: TThresholdResult[]): void {
  t.sort((a, b) => (a.metric === b.metric ? a.expression.localeCompare(b.expression) : a.metric.localeCompare(b.metric)));
}

interface TSecondAcc {
  reqs: number;
  errors: Record<string, number>;
  dur: ReturnType<typeof newHistogram>;
  vus: number;
  dropped: number;
  iterations: number;
}

export interface TPointsParse {
  /** Metric declarations (type, contains, thresholds) by name. */
  metricTypes: Record<string, { type: TMetricType; contains: TK6SummaryMetric['contains']; thresholds: string[] }>;
  seconds: TLoadSecond[];
  /** Count of Point records per metric. */
  pointCounts: Record<string, number>;
  /** Lines that were not JSON k6 records (reported, not fatal). */
  badLines: number;
}

/** Error kind of a failed request point, from k6's tags (`error_code` wins over `status`). */
export function k6ErrorKind(tags: Record<string, string> | null | undefined): string {
  const code = tags?.error_code;
  if (code) {
    // k6 error codes: 1000–1099 generic (1050 request timeout), 1100–1199 DNS, 1200–1299 TCP (1211 dial timeout, 1212 refused)
    const n = Number(code);
    if (n === 1050 || n === 1211) return 'timeout';
    if (n === 1212) return 'econnrefused';
    if (n >= 1100 && n < 1200) return 'dns';
    if (n >= 1200 && n < 1300) return 'econnreset';
    if (n >= 1400 && n < 1700) return `http_${tags?.status ?? code}`;
    return `k6_${code}`;
  }
  return `http_${tags?.status ?? '0'}`;
}

/** One line of k6's `--out json` (a Metric definition or a Point sample). */
export interface TK6JsonLine {
  type?: string;
  metric?: string;
  data?: {
    name?: string;
    type?: TMetricType;
    contains?: TK6SummaryMetric['contains'];
    thresholds?: string[];
    time?: string;
    value?: number;
    tags?: Record<string, string> | null;
  };
}

/** A k6 JSON output line, or undefined when it is not JSON. */
export function readK6JsonLine(line: string): TK6JsonLine | undefined {
  try {
    return JSON.parse(line) as TK6JsonLine;
  } catch {
    return undefined;
  }
}

/**
 * `--out json` NDJSON → per-second series, fed line by line so a running
 * k6's output can be tailed. Seconds are wall-clock (k6 timestamps are
 * RFC 3339 with ns), from the first point's second.
 */
export class K6PointsAccumulator {
  readonly metricTypes: TPointsParse['metricTypes'] = {};
  readonly pointCounts: Record<string, number> = {};
  badLines = 0;
  private readonly acc = new Map<number, TSecondAcc>();
  private first: number | undefined;
  private last: number | undefined;
  private emittedUpTo: number | undefined;

  /** @param withHdr give each second its encoded histogram (`hdr`), for merging instances */
  constructor(private readonly withHdr = false) {}

  private at(sec: number): TSecondAcc {
    let a = this.acc.get(sec);
    if (!a) this.acc.set(sec, (a = { reqs: 0, errors: {}, dur: newHistogram(), vus: 0, dropped: 0, iterations: 0 }));
    if (this.first === undefined || sec < this.first) this.first = sec;
    if (this.last === undefined || sec > this.last) this.last = sec;
    return a;
  }

  add(line: string): void {
    if (!line.trim()) return;
    const rec = readK6JsonLine(line);
    if (!rec) {
      this.badLines++;
      return;
    }
    if (rec.type === 'Metric' && rec.data?.name) {
      this.metricTypes[rec.data.name] = { type: rec.data.type!, contains: rec.data.contains ?? 'default', thresholds: rec.data.thresholds ?? [] };
      return;
    }
    const ms = rec.type === 'Point' && rec.metric && rec.data?.time ? Date.parse(rec.data.time) : NaN;
    if (Number.isNaN(ms)) {
      this.badLines++;
      return;
    }
    const metric = rec.metric!;
    this.pointCounts[metric] = (this.pointCounts[metric] ?? 0) + 1;
    const sec = Math.floor(ms / 1000) * 1000;
    const v = rec.data!.value ?? 0;
    switch (metric) {
      case 'http_reqs':
        this.at(sec).reqs += v;
        break;
      case 'http_req_duration':
        recordMs(this.at(sec).dur, v);
        break;
      case 'http_req_failed':
        if (v) {
          const kind = k6ErrorKind(rec.data!.tags);
          const a = this.at(sec);
          a.errors[kind] = (a.errors[kind] ?? 0) + 1;
        }
        break;
      case 'vus':
        this.at(sec).vus = v;
        break;
      case 'dropped_iterations':
        this.at(sec).dropped += v;
        break;
      case 'iterations':
        this.at(sec).iterations += v;
        break;
    }
  }

  private second(t: number): TLoadSecond {
    const a = this.acc.get(t);
    const p50 = a ? percentileMs(a.dur, 50) : 0;
    const p95 = a ? percentileMs(a.dur, 95) : 0;
    const p99 = a ? percentileMs(a.dur, 99) : 0;
    const enc = this.withHdr ? encodeHistogram(a?.dur ?? newHistogram()) : '';
    this.acc.delete(t);
    return {
      t,
      rps: a?.reqs ?? 0,
      errorsByKind: a?.errors ?? {},
      p50,
      p95,
      p99,
      cp50: p50,
      cp95: p95,
      cp99: p99,
      activeVus: a?.vus ?? 0,
      dropped: a?.dropped ?? 0,
      // k6's schedule is not in its output: started + dropped iterations is what was due
      target: (a?.iterations ?? 0) + (a?.dropped ?? 0),
      // k6 has no intended start: the corrected view is the k6 view
      ...(this.withHdr ? { hdr: { dur: enc, cdur: enc } } : {}),
    };
  }

  /** Start of the latest second that has points (undefined before any). */
  get lastSecond(): number | undefined {
    return this.last;
  }

  /** Complete seconds not yet returned: all before `beforeMs` (or all, when omitted). */
  take(beforeMs?: number): TLoadSecond[] {
    const out: TLoadSecond[] = [];
    if (this.first === undefined || this.last === undefined) return out;
    const from = this.emittedUpTo ?? this.first;
    const to = beforeMs === undefined ? this.last + 1000 : Math.min(beforeMs, this.last + 1000);
    for (let t = from; t < to; t += 1000) out.push(this.second(t));
    if (to > from) this.emittedUpTo = to;
    return out;
  }
}

/** Parse a whole `--out json` file. */
export function parseK6Points(text: string): TPointsParse {
  const a = new K6PointsAccumulator();
  for (const line of text.split('\n')) a.add(line);
  return { metricTypes: a.metricTypes, seconds: a.take(), pointCounts: a.pointCounts, badLines: a.badLines };
}

export const HISTORY_LOG_PREFIX = 'faultline.history ';

/**
 * History events from k6's `--log-format=json` stderr: the scripts log
 * `faultline.history {json}` per operation; k6 wraps it as
 * `{"level":"info","msg":"faultline.history {...}","source":"console",...}`.
 * Indexes are assigned here in log order.
 */
export function parseK6History(stderr: string): THistoryEvent[] {
  const out: THistoryEvent[] = [];
  for (const line of stderr.split('\n')) {
    const e = parseK6HistoryLine(line);
    if (e) out.push({ ...e, index: out.length });
  }
  return out;
}

/** One k6 JSON log line → a history event (without index), or undefined for other lines. */
export function parseK6HistoryLine(line: string): Omit<THistoryEvent, 'index'> | undefined {
  if (!line.includes(HISTORY_LOG_PREFIX.trim())) return undefined;
  try {
    const msg = (JSON.parse(line) as { msg?: string }).msg ?? '';
    if (!msg.startsWith(HISTORY_LOG_PREFIX)) return undefined;
    const e = JSON.parse(msg.slice(HISTORY_LOG_PREFIX.length)) as Omit<THistoryEvent, 'index'>;
    if (!e || typeof e.type !== 'string' || typeof e.f !== 'string' || typeof e.process !== 'number') return undefined;
    return e;
  } catch {
    return undefined;
  }
}
