/**
 * k6-shaped metric sinks with flat memory: trends live in HdrHistograms
 * (microsecond resolution, 3 significant digits ⇒ ≤0.1 % percentile error,
 * where k6 keeps every sample), counters/rates/gauges are a few numbers.
 * Sub-metrics (`http_req_duration{name:checkout}`) are extra sinks fed by
 * samples whose tags match, as in k6.
 */
import * as hdr from 'hdr-histogram-js';
import type { TMetricType, TThresholdSource } from '../thresholds.js';
import type { TK6SummaryMetric } from '../types.js';

/** 1 hour in µs: larger latencies are clamped (a request timeout is far below). */
const HIGHEST_US = 3_600_000_000;

export function newHistogram(): hdr.Histogram {
  return hdr.build({ numberOfSignificantValueDigits: 3, lowestDiscernibleValue: 1, highestTrackableValue: HIGHEST_US, autoResize: false });
}

export function recordMs(h: hdr.Histogram, ms: number): void {
  h.recordValue(Math.min(HIGHEST_US, Math.max(1, Math.round(ms * 1000))));
}

/** Percentile of an HdrHistogram in ms (0 when empty). */
export function percentileMs(h: hdr.Histogram, p: number): number {
  return h.totalCount === 0 ? 0 : h.getValueAtPercentile(p) / 1000;
}

/** An HdrHistogram as text (HdrHistogram's compressed base64 format, readable by every HdrHistogram port). */
export function encodeHistogram(h: hdr.Histogram): string {
  return hdr.encodeIntoCompressedBase64(h);
}

/** Decode `encodeHistogram` output into a histogram with the engine's settings. */
export function decodeHistogram(text: string): hdr.Histogram {
  const out = newHistogram();
  if (text) out.add(hdr.decodeFromCompressedBase64(text));
  return out;
}

/**
 * A sink's full state as plain data: what another instance needs to merge it
 * exactly (counts add; trends merge histograms, never percentiles).
 */
export type TRawSink =
  | { type: 'trend'; count: number; sum: number; min: number; max: number; hist: string }
  | { type: 'counter'; count: number; samples: number }
  | { type: 'rate'; passes: number; fails: number }
  | { type: 'gauge'; value: number; min: number; max: number; samples: number };

export class TrendSink {
  readonly type = 'trend' as const;
  readonly hist = newHistogram();
  count = 0;
  sum = 0;
  min = Infinity;
  max = -Infinity;
  add(ms: number): void {
    this.count++;
    this.sum += ms;
    if (ms < this.min) this.min = ms;
    if (ms > this.max) this.max = ms;
    recordMs(this.hist, ms);
  }
  agg(a: string): number {
    if (this.count === 0) return 0;
    switch (a) {
      case 'avg':
        return this.sum / this.count;
      case 'min':
        return this.min;
      case 'max':
        return this.max;
      case 'med':
        return this.pct(50);
    }
    const m = /^p\((.+)\)$/.exec(a);
    if (m) return this.pct(Number(m[1]));
    throw new Error(`trend has no aggregation ${a}`);
  }
  toRaw(): TRawSink {
    return { type: 'trend', count: this.count, sum: this.sum, min: this.min, max: this.max, hist: encodeHistogram(this.hist) };
  }
  absorb(r: Extract<TRawSink, { type: 'trend' }>): void {
    if (r.count === 0) return;
    this.count += r.count;
    this.sum += r.sum;
    this.min = Math.min(this.min, r.min);
    this.max = Math.max(this.max, r.max);
    this.hist.add(decodeHistogram(r.hist));
  }
  private pct(p: number): number {
    // exact extremes; the histogram's bucket values could exceed the true max
    if (p <= 0) return this.min;
    if (p >= 100) return this.max;
    return Math.min(this.max, Math.max(this.min, percentileMs(this.hist, p)));
  }
}

export class CounterSink {
  readonly type = 'counter' as const;
  count = 0;
  samples = 0;
  constructor(private elapsedMs: () => number) {}
  add(v: number): void {
    this.count += v;
    this.samples++;
  }
  toRaw(): TRawSink {
    return { type: 'counter', count: this.count, samples: this.samples };
  }
  absorb(r: Extract<TRawSink, { type: 'counter' }>): void {
    this.count += r.count;
    this.samples += r.samples;
  }
  agg(a: string): number {
    if (a === 'count') return this.count;
    if (a === 'rate') return this.count / Math.max(1e-9, this.elapsedMs() / 1000);
    throw new Error(`counter has no aggregation ${a}`);
  }
}

export class RateSink {
  readonly type = 'rate' as const;
  passes = 0;
  fails = 0;
  get samples(): number {
    return this.passes + this.fails;
  }
  add(v: boolean | number): void {
    if (v) this.passes++;
    else this.fails++;
  }
  toRaw(): TRawSink {
    return { type: 'rate', passes: this.passes, fails: this.fails };
  }
  absorb(r: Extract<TRawSink, { type: 'rate' }>): void {
    this.passes += r.passes;
    this.fails += r.fails;
  }
  agg(a: string): number {
    if (a === 'rate') return this.samples === 0 ? 0 : this.passes / this.samples;
    throw new Error(`rate has no aggregation ${a}`);
  }
}

export class GaugeSink {
  readonly type = 'gauge' as const;
  value = 0;
  min = Infinity;
  max = -Infinity;
  samples = 0;
  add(v: number): void {
    this.value = v;
    this.samples++;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
  }
  toRaw(): TRawSink {
    return { type: 'gauge', value: this.value, min: this.min, max: this.max, samples: this.samples };
  }
  /**
   * Gauges of several instances (vus, vus_max) add up: the merged value is the
   * sum of the instances' last values; min/max become the sums of theirs (the
   * bounds of the total; exact when the instances move together, as segments do).
   */
  absorb(r: Extract<TRawSink, { type: 'gauge' }>): void {
    if (r.samples === 0) return;
    const first = this.samples === 0;
    this.value = (first ? 0 : this.value) + r.value;
    this.min = (first ? 0 : this.min) + r.min;
    this.max = (first ? 0 : this.max) + r.max;
    this.samples += r.samples;
  }
  agg(a: string): number {
    if (a === 'value') return this.value;
    throw new Error(`gauge has no aggregation ${a}`);
  }
}

export type TSink = TrendSink | CounterSink | RateSink | GaugeSink;
export type TTags = Record<string, string>;

interface TSub {
  name: string;
  tags: [string, string][];
  sink: TSink;
}

export interface TMetricDef {
  type: TMetricType;
  contains: 'default' | 'time';
}

/** The summary stats k6 prints by default, plus p(99) which every faultline report shows. */
export const SUMMARY_TREND_STATS = ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'p(99)'];

export class MetricRegistry implements TThresholdSource {
  private readonly sinks = new Map<string, TSink>();
  private readonly subs = new Map<string, TSub[]>();
  private readonly defs = new Map<string, TMetricDef>();

  constructor(
    defs: Record<string, TMetricDef>,
    /** Sub-metrics to track: `{ name: 'm{a:b}', metric: 'm', tags }`. */
    submetrics: { name: string; metric: string; tags: TTags }[],
    private readonly elapsedMs: () => number,
  ) {
    for (const [name, d] of Object.entries(defs)) {
      this.defs.set(name, d);
      this.sinks.set(name, this.newSink(d.type));
    }
    for (const s of submetrics) {
      const d = this.defs.get(s.metric);
      if (!d || this.sinks.has(s.name)) continue;
      const sub: TSub = { name: s.name, tags: Object.entries(s.tags), sink: this.newSink(d.type) };
      this.sinks.set(s.name, sub.sink);
      const list = this.subs.get(s.metric) ?? [];
      list.push(sub);
      this.subs.set(s.metric, list);
    }
  }

  /**
   * Declare a metric after construction (k6 declares each metric in its JSON
   * output on first sight), with the sub-metrics to track for it.
   */
  define(name: string, def: TMetricDef, submetrics: { name: string; tags: TTags }[] = []): void {
    if (this.defs.has(name)) return;
    this.defs.set(name, def);
    this.sinks.set(name, this.newSink(def.type));
    for (const sm of submetrics) {
      if (this.sinks.has(sm.name)) continue;
      const sub: TSub = { name: sm.name, tags: Object.entries(sm.tags), sink: this.newSink(def.type) };
      this.sinks.set(sm.name, sub.sink);
      const list = this.subs.get(name) ?? [];
      list.push(sub);
      this.subs.set(name, list);
    }
  }

  has(name: string): boolean {
    return this.sinks.has(name);
  }

  private newSink(t: TMetricType): TSink {
    switch (t) {
      case 'trend':
        return new TrendSink();
      case 'counter':
        return new CounterSink(this.elapsedMs);
      case 'rate':
        return new RateSink();
      case 'gauge':
        return new GaugeSink();
    }
  }

  /** Add one sample to the metric and to every sub-metric whose tags it carries. */
  add(metric: string, value: number | boolean, tags?: TTags): void {
    const sink = this.sinks.get(metric);
    if (!sink) throw new Error(`unknown metric ${metric}`);
    (sink.add as (v: number | boolean) => void)(value);
    const subs = this.subs.get(metric);
    if (!subs || !tags) return;
    for (const s of subs) if (s.tags.every(([k, v]) => tags[k] === v)) (s.sink.add as (v: number | boolean) => void)(value);
  }

  /** Every sink's state, by metric (and sub-metric) name: the mergeable form of this registry. */
  toRaw(): Record<string, TRawSink> {
    const out: Record<string, TRawSink> = {};
    for (const [name, s] of this.sinks) out[name] = s.toRaw();
    return out;
  }

  /**
   * Add another instance's sinks (from `toRaw`). A sub-metric this registry
   * does not track yet is created when its base metric is known.
   */
  absorb(raw: Record<string, TRawSink>): void {
    for (const [name, r] of Object.entries(raw)) {
      let sink = this.sinks.get(name);
      if (!sink) {
        const base = name.replace(/\{.*$/, '');
        // a metric only another instance saw (a k6 script's custom metric): typed by its state
        if (!this.defs.has(base)) this.define(base, { type: r.type, contains: r.type === 'trend' ? 'time' : 'default' });
        if (!this.sinks.has(name)) this.sinks.set(name, this.newSink(this.defs.get(base)!.type));
        sink = this.sinks.get(name)!;
      }
      if (sink.type !== r.type) throw new Error(`metric ${name} is a ${sink.type}, not a ${r.type}`);
      (sink.absorb as (x: TRawSink) => void)(r);
    }
  }

  /** Sub-metrics matched per (frozen, reused) tag object: see addStable. */
  private readonly matchCache = new WeakMap<TTags, Map<string, TSink[]>>();

  /**
   * `add` for a tag object that is never mutated and is reused across samples
   * (the engine's cached tag sets): which sub-metrics it feeds is worked out
   * once per (tags, metric), not on every sample.
   */
  addStable(metric: string, value: number | boolean, tags: TTags): void {
    const sink = this.sinks.get(metric);
    if (!sink) throw new Error(`unknown metric ${metric}`);
    (sink.add as (v: number | boolean) => void)(value);
    const subs = this.subs.get(metric);
    if (!subs) return;
    let per = this.matchCache.get(tags);
    if (!per) this.matchCache.set(tags, (per = new Map()));
    let matched = per.get(metric);
    if (!matched) per.set(metric, (matched = subs.filter((sub) => sub.tags.every(([k, v]) => tags[k] === v)).map((sub) => sub.sink)));
    for (const m of matched) (m.add as (v: number | boolean) => void)(value);
  }

  sink(name: string): TSink | undefined {
    return this.sinks.get(name);
  }

  hasData(name: string): boolean {
    const s = this.sinks.get(name);
    if (!s) return false;
    return s.type === 'trend' ? s.count > 0 : s.samples > 0;
  }

  value(name: string, agg: string): number {
    const s = this.sinks.get(name);
    if (!s) throw new Error(`unknown metric ${name}`);
    return s.agg(agg);
  }

  /** The `metrics` part of k6's handleSummary data; metrics without samples are left out, as k6 does. */
  summary(trendStats: string[] = SUMMARY_TREND_STATS): Record<string, TK6SummaryMetric> {
    const out: Record<string, TK6SummaryMetric> = {};
    for (const [name, s] of this.sinks) {
      if (!this.hasData(name)) continue;
      const base = name.replace(/\{.*$/, '');
      const d = this.defs.get(base)!;
      let values: Record<string, number>;
      switch (s.type) {
        case 'trend':
          values = Object.fromEntries(trendStats.map((a) => [a, s.agg(a)]));
          break;
        case 'counter':
          values = { count: s.count, rate: s.agg('rate') };
          break;
        case 'rate':
          values = { rate: s.agg('rate'), passes: s.passes, fails: s.fails };
          break;
        case 'gauge':
          values = { value: s.value, min: s.min, max: s.max };
          break;
      }
      out[name] = { type: s.type, contains: d.contains, values };
    }
    return out;
  }
}
