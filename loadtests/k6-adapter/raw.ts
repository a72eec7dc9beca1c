/**
 * k6's `--out json` points → the full metric state of one k6 instance
 * (TRawRun), so that several instances (execution segments) merge exactly:
 * k6's own end-of-test summary holds percentiles, which cannot be merged.
 *
 *   Metric line ─▶ define the metric (+ the sub-metrics thresholds name)
 *   Point line  ─▶ add the sample with its tags (sub-metrics match on tags, as in k6)
 *
 * Pure over lines; tested on the recorded k6 v1.3.0 output.
 */
import { MetricRegistry } from '../engine/metrics.js';
import { parseMetricSelector, type TMetricType } from '../thresholds.js';
import type { TK6SummaryMetric, TRawRun } from '../types.js';

export class K6RawBuilder {
  private readonly reg: MetricRegistry;
  private readonly subs = new Map<string, { name: string; tags: Record<string, string> }[]>();
  private first: number | undefined;
  private last: number | undefined;
  badLines = 0;

  /** @param metricKeys metric keys with tags to track as sub-metrics (threshold keys such as `http_req_duration{name:checkout}`) */
  constructor(metricKeys: string[] = []) {
    this.reg = new MetricRegistry({}, [], () => this.spanMs());
    for (const key of metricKeys) {
      const sel = parseMetricSelector(key);
      if (!Object.keys(sel.tags).length) continue;
      const l = this.subs.get(sel.metric) ?? [];
      l.push({ name: key.trim(), tags: sel.tags });
      this.subs.set(sel.metric, l);
    }
  }

  private spanMs(): number {
    return this.first === undefined || this.last === undefined ? 0 : this.last - this.first;
  }

  add(line: string): void {
    if (!line.trim()) return;
    let rec: { type?: string; metric?: string; data?: { name?: string; type?: TMetricType; contains?: TK6SummaryMetric['contains']; time?: string; value?: number; tags?: Record<string, string> | null } };
    try {
      rec = JSON.parse(line);
    } catch {
      this.badLines++;
      return;
    }
    if (rec.type === 'Metric' && rec.data?.name && rec.data.type) {
      this.reg.define(rec.data.name, { type: rec.data.type, contains: rec.data.contains === 'time' ? 'time' : 'default' }, this.subs.get(rec.data.name));
      return;
    }
    if (rec.type !== 'Point' || !rec.metric || !rec.data?.time) {
      this.badLines++;
      return;
    }
    const ms = Date.parse(rec.data.time);
    // a point of a metric never declared cannot be typed: k6 always declares first
    if (Number.isNaN(ms) || !this.reg.has(rec.metric)) {
      this.badLines++;
      return;
    }
    if (this.first === undefined || ms < this.first) this.first = ms;
    if (this.last === undefined || ms > this.last) this.last = ms;
    this.reg.add(rec.metric, rec.data.value ?? 0, rec.data.tags ?? undefined);
  }

  /**
   * The instance's raw run. `durationMs`: k6's test run duration (handleSummary
   * `state.testRunDurationMs`, the base of counters' rate); default the span of the points.
   */
  result(durationMs?: number): TRawRun {
    return { loadStartedAt: this.first ?? 0, runMs: durationMs ?? this.spanMs(), metrics: this.reg.toRaw() };
  }
}

/** A whole `--out json` file at once. */
export function k6RawFromPoints(text: string, metricKeys: string[] = [], durationMs?: number): TRawRun {
  const b = new K6RawBuilder(metricKeys);
  for (const line of text.split('\n')) b.add(line);
  return b.result(durationMs);
}
