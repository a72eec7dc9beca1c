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
import { AppError } from '../../core/errors.js';
import { MetricRegistry } from '../engine/metrics.js';
import { mergeLoadResults, thresholdDefsFrom } from '../merge.js';
import type { TScenario } from '../scenario.js';
import { parseMetricSelector, type TThresholdResult } from '../thresholds.js';
import type { TLoadResult, TRawRun } from '../types.js';
import { K6PointsAccumulator, readK6JsonLine } from './parse.js';

export class K6RawBuilder {
  private readonly reg: MetricRegistry;
  private readonly subs = new Map<string, { name: string; tags: Record<string, string> }[]>();
  private first: number | undefined;
  private last: number | undefined;
  badLines = 0;
  /** Point records taken. */
  points = 0;
  /** Threshold expressions k6 declared per metric (Metric lines; sub-metric thresholds are not in them). */
  readonly thresholds: Record<string, string[]> = {};
  /** k6-operator's `instance_id` tags seen (which runners the points came from). */
  readonly instances = new Set<string>();

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
    const rec = readK6JsonLine(line);
    if (!rec) {
      this.badLines++;
      return;
    }
    if (rec.type === 'Metric' && rec.data?.name && rec.data.type) {
      const thr = rec.data.thresholds;
      if (thr?.length) this.thresholds[rec.data.name] = thr;
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
    this.points++;
    const id = rec.data.tags?.instance_id;
    if (id !== undefined) this.instances.add(id);
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

/**
 * Merge the `--out json` outputs of several k6 instances (k6-operator runners,
 * k6 processes on several machines) into one result: exact counts, merged
 * histograms, thresholds judged once. Thresholds: the scenario's when given,
 * else those k6 declared in the outputs (plain metrics only: k6 does not
 * write sub-metric thresholds into its JSON output).
 */
export function mergeK6Outputs(
  texts: string[],
  opts: { scenario?: Pick<TScenario, 'thresholds'>; expectInstances?: number } = {},
): TLoadResult & { instances: string[] } {
  if (!texts.length)
    throw new AppError('VALIDATION', 'nothing to merge', { issues: [{ path: 'files', message: 'give the JSON output (--out json) of every instance' }] });
  const keys = opts.scenario ? Object.keys(opts.scenario.thresholds) : [];
  const instances = new Set<string>();
  const declared: TThresholdResult[] = [];
  const parts: TLoadResult[] = texts.map((text, i) => {
    const b = new K6RawBuilder(keys);
    const acc = new K6PointsAccumulator(true);
    for (const line of text.split('\n')) {
      b.add(line);
      acc.add(line);
    }
    if (b.points === 0)
      throw new AppError('VALIDATION', 'not a k6 JSON output', {
        issues: [{ path: `files.${i}`, message: 'no k6 Metric/Point records (k6 run --out json=FILE writes them)' }],
      });
    for (const id of b.instances) instances.add(id);
    for (const [metric, list] of Object.entries(b.thresholds)) for (const expression of list) declared.push({ metric, expression, ok: true });
    const raw = b.result();
    return {
      engine: 'k6',
      startedAt: raw.loadStartedAt,
      endedAt: raw.loadStartedAt + raw.runMs,
      exitCode: 0,
      metrics: {},
      thresholds: [],
      seconds: acc.take(),
      history: [],
      raw,
    };
  });
  if (opts.expectInstances !== undefined && instances.size && instances.size !== opts.expectInstances)
    throw new AppError('VALIDATION', 'incomplete run', {
      issues: [
        {
          path: 'files',
          message: `points from ${instances.size} runner(s) (instance_id ${[...instances].sort().join(', ')}), the run had ${opts.expectInstances}: a missing segment would be a missing share of the load`,
        },
      ],
    });
  const merged = mergeLoadResults(opts.scenario, parts, opts.scenario ? {} : { thresholds: thresholdDefsFrom(declared) });
  return { ...merged, instances: [...instances].sort() };
}
