/**
 * One verdict from several load generators (execution segments of one run):
 *
 *   segment results (raw sinks, per-second HDR) ──▶ mergeLoadResults ──▶ one TLoadResult
 *        counters, rates: add          trends: merge HdrHistograms (never average percentiles)
 *        gauges (vus): add             seconds: aligned on the agreed start, merged the same way
 *        thresholds: judged once, on the merged metrics
 *        history: one history, ordered by time
 *
 * Pure: no I/O. Percentiles are exact within the histograms' precision (3
 * significant digits: ≤ 0.1 %), whichever instance the samples came from.
 */
import { AppError } from '../core/errors.js';
import { thresholdDefs } from './engine/engine.js';
import { decodeHistogram, MetricRegistry, newHistogram, percentileMs, type TMetricDef } from './engine/metrics.js';
import { ENGINE_METRICS, type TScenario } from './scenario.js';
import { evaluateThresholds, parseMetricSelector, type TThresholdDef, type TThresholdResult } from './thresholds.js';
import { EXIT, type THistoryEvent, type TLoadResult, type TLoadSecond } from './types.js';

/**
 * Merge one second from every segment (same wall-clock second): counts add,
 * percentiles come from the union of their histograms. Seconds without `hdr`
 * (a k6 instance, an old worker) cannot be merged exactly: AppError.
 */
export function mergeSecond(parts: TLoadSecond[]): TLoadSecond {
  if (parts.length === 0) throw new AppError('VALIDATION', 'nothing to merge', { issues: [{ path: 'seconds', message: 'no second given' }] });
  if (parts.length === 1) return parts[0];
  const dur = newHistogram();
  const cdur = newHistogram();
  const errorsByKind: Record<string, number> = {};
  let rps = 0;
  let activeVus = 0;
  let dropped = 0;
  let target = 0;
  for (const p of parts) {
    if (!p.hdr)
      throw new AppError('VALIDATION', 'second has no histograms', {
        issues: [{ path: 'seconds.hdr', message: `second ${new Date(p.t).toISOString()} was not recorded mergeable (run segments with mergeable: true)` }],
      });
    dur.add(decodeHistogram(p.hdr.dur));
    cdur.add(decodeHistogram(p.hdr.cdur));
    for (const [k, n] of Object.entries(p.errorsByKind)) errorsByKind[k] = (errorsByKind[k] ?? 0) + n;
    rps += p.rps;
    activeVus += p.activeVus;
    dropped += p.dropped;
    target += p.target;
  }
  return {
    t: Math.min(...parts.map((p) => p.t)),
    rps,
    errorsByKind,
    p50: percentileMs(dur, 50),
    p95: percentileMs(dur, 95),
    p99: percentileMs(dur, 99),
    cp50: percentileMs(cdur, 50),
    cp95: percentileMs(cdur, 95),
    cp99: percentileMs(cdur, 99),
    activeVus,
    dropped,
    target,
  };
}

/**
 * Align every segment's seconds on the earliest start (a segment that woke a
 * few ms late still fills the same second slots) and merge each slot.
 */
export function mergeSeconds(parts: TLoadSecond[][]): TLoadSecond[] {
  const starts = parts.filter((p) => p.length).map((p) => p[0].t);
  if (!starts.length) return [];
  const origin = Math.min(...starts);
  const slots = new Map<number, TLoadSecond[]>();
  for (const secs of parts)
    for (const s of secs) {
      const k = Math.round((s.t - origin) / 1000);
      const l = slots.get(k) ?? [];
      l.push(s);
      slots.set(k, l);
    }
  return [...slots.keys()].sort((a, b) => a - b).map((k) => ({ ...mergeSecond(slots.get(k)!), t: origin + k * 1000 }));
}

/** Options of `mergeLoadResults`. */
export interface TMergeOptions {
  /**
   * Thresholds to judge on the merged data.
   * @defaultValue the scenario's (k6 syntax, as every segment had them)
   */
  thresholds?: TThresholdDef[];
  /**
   * Metric types beyond the built-in engine's (a k6 script's custom metrics).
   * @defaultValue ENGINE_METRICS
   */
  metricDefs?: Record<string, TMetricDef>;
  /**
   * Trend stats in the merged summary.
   * @defaultValue SUMMARY_TREND_STATS (k6's defaults plus p(99))
   */
  trendStats?: string[];
}

/**
 * A history pairs an invoke with the next completion of the same process, so
 * two segments must not share a process number. The built-in engine numbers
 * a segment's VUs across the whole test (k6's exec.vu.idInTest: the segments'
 * numbers are disjoint, and `${vu}` in a request is its process): kept as they
 * are. Histories numbered from 1 in every segment (k6 instances' __VU, older
 * workers) would pair segment 2's VU 10 with segment 1's VU 10's operation (a
 * cancel read as a checkout's answer): each segment's processes are then
 * shifted past the previous segments' highest. Process 0 (setup, run once for
 * all) keeps its number.
 */
function distinctProcesses(histories: THistoryEvent[][]): THistoryEvent[] {
  const owner = new Map<number, number>();
  let disjoint = true;
  histories.forEach((h, i) => {
    for (const e of h) {
      if (e.process === 0) continue;
      const o = owner.get(e.process);
      if (o === undefined) owner.set(e.process, i);
      else if (o !== i) disjoint = false;
    }
  });
  if (disjoint) return histories.flat();
  const out: THistoryEvent[] = [];
  let offset = 0;
  for (const h of histories) {
    let max = 0;
    for (const e of h) {
      if (e.process > max) max = e.process;
      out.push(offset === 0 || e.process === 0 ? e : { ...e, process: e.process + offset });
    }
    offset += max;
  }
  return out;
}

/**
 * Merge the results of a run's segments into one result, as if one generator
 * had produced all of them. Every part must carry `raw` (run with
 * `mergeable: true`, or rebuilt from k6's JSON output). Exit status: 105 when
 * a segment was interrupted from outside, 107 when one failed setup, else 99
 * when a threshold fails on the merged data, else 0.
 */
export function mergeLoadResults(s: Pick<TScenario, 'thresholds'> | undefined, parts: TLoadResult[], opts: TMergeOptions = {}): TLoadResult {
  if (parts.length === 0) throw new AppError('VALIDATION', 'nothing to merge', { issues: [{ path: 'results', message: 'no segment result given' }] });
  parts.forEach((p, i) => {
    if (!p.raw)
      throw new AppError('VALIDATION', 'segment result is not mergeable', {
        issues: [{ path: `results.${i}.raw`, message: 'missing: run the segment with mergeable: true' }],
      });
  });
  const loadStartedAt = Math.min(...parts.map((p) => p.raw!.loadStartedAt));
  // the merged run lasts from the earliest start to the latest end
  const runMs = Math.max(...parts.map((p) => p.raw!.loadStartedAt + p.raw!.runMs)) - loadStartedAt;
  const defs = opts.thresholds ?? (s ? thresholdDefs(s as TScenario) : []);
  const metrics = new MetricRegistry(
    opts.metricDefs ?? ENGINE_METRICS,
    defs.filter((d) => Object.keys(d.tags).length).map((d) => ({ name: d.key, metric: d.metric, tags: d.tags })),
    () => runMs,
  );
  for (const p of parts) metrics.absorb(p.raw!.metrics);

  const { results } = evaluateThresholds(defs, metrics, runMs);
  const summary = metrics.summary(opts.trendStats);
  for (const m of Object.values(summary)) if (m.type === 'counter') m.values.rate = m.values.count / Math.max(1e-9, runMs / 1000);
  for (const t of results) {
    const m = summary[t.metric];
    if (m) (m.thresholds ??= {})[t.expression] = { ok: t.ok };
  }

  const history: THistoryEvent[] = distinctProcesses(parts.map((p) => p.history))
    .sort((a, b) => a.time - b.time)
    .map((e, index) => ({ ...e, index }));

  const codes = parts.map((p) => p.exitCode);
  const exitCode = codes.includes(EXIT.EXTERNAL_ABORT)
    ? EXIT.EXTERNAL_ABORT
    : codes.includes(EXIT.SCRIPT_EXCEPTION)
      ? EXIT.SCRIPT_EXCEPTION
      : results.some((t) => !t.ok)
        ? EXIT.THRESHOLDS_FAILED
        : EXIT.OK;
  const reasons = parts.map((p, i) => (p.abortReason ? `segment ${i + 1}: ${p.abortReason}` : undefined)).filter(Boolean);
  return {
    engine: parts[0].engine,
    startedAt: Math.min(...parts.map((p) => p.startedAt)),
    endedAt: Math.max(...parts.map((p) => p.endedAt)),
    exitCode,
    metrics: summary,
    thresholds: results,
    seconds: mergeSeconds(parts.map((p) => p.seconds)),
    history,
    ...(reasons.length ? { abortReason: reasons.join('; ') } : {}),
    raw: { loadStartedAt, runMs, metrics: metrics.toRaw() },
  };
}

/** Threshold definitions from k6 summaries' `thresholds` (metric key → expressions), for merging k6 instances. */
export function thresholdDefsFrom(results: TThresholdResult[]): TThresholdDef[] {
  const seen = new Set<string>();
  const out: TThresholdDef[] = [];
  for (const r of results) {
    const id = `${r.metric}\u0000${r.expression}`;
    if (seen.has(id)) continue;
    seen.add(id);
    const sel = parseMetricSelector(r.metric);
    out.push(
      ...thresholdDefs({ thresholds: { [r.metric]: [r.expression] } } as unknown as TScenario).map((d) => ({ ...d, metric: sel.metric, tags: sel.tags })),
    );
  }
  return out;
}

/**
 * Live merging: each segment pushes its finished seconds as they come; a
 * second is merged and emitted once every segment has pushed it (`flush`
 * emits the incomplete rest at the end, e.g. a segment that ended early).
 * Seconds are keyed by wall-clock second, so segments must share a start
 * (the agreed `startAt`, or k6's wall-clock-aligned seconds).
 */
export class SecondMerger {
  private readonly slots = new Map<number, Map<number, TLoadSecond>>();
  private emitted = -Infinity;

  constructor(
    private readonly parts: number,
    /** The merged second, with each part's own second by part index (a segment's share, for per-segment progress). */
    private readonly emit: (s: TLoadSecond, parts: ReadonlyMap<number, TLoadSecond>) => void,
  ) {}

  push(part: number, s: TLoadSecond): void {
    const k = Math.round(s.t / 1000);
    if (k <= this.emitted) return; // late for an already emitted second: the final merge still has it
    const slot = this.slots.get(k) ?? new Map<number, TLoadSecond>();
    slot.set(part, s);
    this.slots.set(k, slot);
    if (slot.size === this.parts) {
      // everything before a complete second is as complete as it will get live
      for (const key of [...this.slots.keys()].sort((a, b) => a - b)) {
        if (key > k) break;
        this.emitOne(key);
      }
    }
  }

  flush(): void {
    for (const key of [...this.slots.keys()].sort((a, b) => a - b)) this.emitOne(key);
  }

  private emitOne(key: number): void {
    const slot = this.slots.get(key)!;
    this.slots.delete(key);
    this.emitted = Math.max(this.emitted, key);
    this.emit({ ...mergeSecond([...slot.values()]), t: key * 1000 }, slot);
  }
}
