/**
 * What the run page shows, derived from the run row, its report and its
 * event stream (pure: no React, no I/O).
 *
 *   events ─┬─▶ live seconds ─────────────▶ charts (report series replace them)
 *           ├─▶ fault windows ─────────────▶ shaded on every chart
 *           ├─▶ load start (first second) ─▶ elapsed, x range
 *           └─▶ settle ────────────────────▶ recovery phase label
 */
// the pure state list, not workers/index (this module runs in the browser)
import { isTerminal } from '../../../../db/schema/run-states.js';
import type { TSegmentStateEvent, TStoredRunEvent } from '../../../../workers/index.js';
import type { TRunView } from '../../../_lib/runs.js';
import type { TWindow } from '../../../_components/chart.js';

export type TReport = NonNullable<TRunView['report']>;
export type TSecond = TReport['series']['seconds'][number];
export type TSettle = NonNullable<TReport['settle']>;
export type TTimeline = TReport['breakers']['timelines'][number];

/** The steps shown above the progress bar; `setting_up` is `running` before the first second of load. */
export const STAGES = ['queued', 'steady_state', 'setting_up', 'running', 'recovering', 'analysing'] as const;
export type TStage = (typeof STAGES)[number];

export function stageLabel(s: TStage, o: { loadTest: boolean; settle: TSettle | null }): string {
  if (s === 'running') return o.loadTest ? 'load' : 'load + faults';
  if (s === 'recovering') return o.settle ? `${o.settle.settled ? 'settled' : 'not settled'} ${Math.round(o.settle.waitedMs / 100) / 10} s` : 'settling';
  return { queued: 'queued', steady_state: 'steady state', setting_up: 'setting up', analysing: 'analysis' }[s];
}

export function stageOf(state: string, loadStarted: boolean): TStage | 'done' {
  if (isTerminal(state)) return 'done';
  if (state === 'running') return loadStarted ? 'running' : 'setting_up';
  return (STAGES as readonly string[]).includes(state) ? (state as TStage) : 'queued';
}

/** The furthest step a run reached (for a finished run: where it stopped), from its phase events. */
export function reachedStage(events: readonly TStoredRunEvent[], loadStarted: boolean): number {
  let i = 0;
  for (const e of events) if (e.type === 'phase') i = Math.max(i, STAGES.indexOf(stageOf(e.phase, loadStarted) as TStage));
  return i;
}

/** A run started from the Load tests page: judged by its scenario, no faults (app/_lib/loadtests.ts tags it). */
export function isLoadTest(definition: unknown): boolean {
  const tags = (definition as { tags?: unknown })?.tags;
  return Array.isArray(tags) && tags.includes('loadtest');
}

export function liveSeconds(events: readonly TStoredRunEvent[]): TSecond[] {
  const out: TSecond[] = [];
  for (const e of events) if (e.type === 'load.second') out.push({ ...e.second, cp50: NaN, cp95: NaN });
  return out;
}

/** Start of the load: the first second the engine reported (setup, e.g. registering users, comes before it). */
export function loadStartOf(events: readonly TStoredRunEvent[], report: TReport | null): number | null {
  if (report?.series.seconds.length) return report.series.seconds[0].t;
  const first = events.find((e) => e.type === 'load.second');
  return first?.type === 'load.second' ? first.second.t : null;
}

/** The runner's settling outcome: from the report, else from its `settle` event once emitted. */
export function settleOf(events: readonly TStoredRunEvent[], report: TReport | null): TSettle | null {
  if (report?.settle) return report.settle;
  for (const e of events) if (e.type === 'settle') return { settled: e.settled, waitedMs: e.waitedMs, maxMs: e.maxMs, detail: e.detail };
  return null;
}

export function faultWindows(report: TReport | null, events: readonly TStoredRunEvent[], now: number): TWindow[] {
  if (report?.faults.length)
    return report.faults.filter((f) => f.appliedAt).map((f) => ({ name: f.name, from: f.appliedAt!, to: f.removedAt ?? f.appliedAt! + f.plannedDurationMs }));
  const open = new Map<string, number>();
  const out: TWindow[] = [];
  for (const e of events) {
    if (e.type === 'fault.applied') open.set(e.name, e.t);
    if (e.type === 'fault.removed' && open.has(e.name)) {
      out.push({ name: e.name, from: open.get(e.name)!, to: e.t });
      open.delete(e.name);
    }
  }
  for (const [name, from] of open) out.push({ name, from, to: now });
  return out;
}

/** Planned load duration in ms, when the experiment says it (else the scenario decides). */
export function plannedLoadMs(definition: unknown): number | null {
  const d = definition as { load?: { duration?: number }; faults?: { at: number; duration: number }[] };
  if (typeof d?.load?.duration === 'number') return d.load.duration;
  const end = Math.max(0, ...(d?.faults ?? []).map((f) => f.at + f.duration));
  return end > 0 ? end : null;
}

/**
 * The x range every chart shares: from the load start over the planned load
 * (a live run fills it in from the left), widened to what was observed.
 */
export function chartRange(
  start: number | null,
  plannedMs: number | null,
  seconds: readonly TSecond[],
  windows: readonly TWindow[],
  now: number,
): [number, number] {
  const ts = [...seconds.map((s) => s.t + 1000), ...windows.flatMap((w) => [w.from, w.to])];
  const lo = start ?? (ts.length ? Math.min(...ts) : now - 30_000);
  const hi = Math.max(lo + (plannedMs ?? 30_000), ...ts);
  return [lo, hi];
}

export function lanesOf(timelines: readonly TTimeline[]) {
  return timelines.flatMap((tl) =>
    tl.instances.map((inst) => ({ label: `${tl.breaker} ${inst.replace(/^.*-(\d+)$/, '#$1')}`, segments: tl.segments.filter((s) => s.instance === inst) })),
  );
}

/** One segment of a split load: its last known state and what it achieved, second by second (null: not reported). */
export interface TSegmentView extends TSegmentStateEvent {
  rps: (number | null)[];
  target: (number | null)[];
}

/**
 * A split load's segments (`load.segments` events for their states, each
 * `load.second`'s `segments` parts for their seconds), on the x of the merged
 * seconds; null for an unsplit run. Both are stored events, so a finished run
 * draws the same chart as it did live.
 */
export function segmentsOf(events: readonly TStoredRunEvent[]): { xs: number[]; rps: number[]; target: number[]; segments: TSegmentView[] } | null {
  let states: TSegmentStateEvent[] | null = null;
  let count = 0;
  for (const e of events)
    if (e.type === 'load.segments') {
      states = e.segments;
      count = e.count;
    }
  const seconds = events.flatMap((e) => (e.type === 'load.second' && e.second.segments ? [e.second] : []));
  if (!states && !seconds.length) return null;
  count = Math.max(count, states?.length ?? 0, ...seconds.flatMap((s) => s.segments!.map((p) => p.index + 1)));
  const segments: TSegmentView[] = Array.from({ length: count }, (_, index) => ({
    ...(states?.[index] ?? { index, state: 'queued' as const, seconds: 0 }),
    rps: seconds.map(() => null),
    target: seconds.map(() => null),
  }));
  seconds.forEach((s, i) => {
    for (const p of s.segments!) {
      const v = segments[p.index];
      if (!v) continue;
      v.rps[i] = p.rps;
      v.target[i] = p.target;
    }
  });
  return { xs: seconds.map((s) => s.t), rps: seconds.map((s) => s.rps), target: seconds.map((s) => s.target), segments };
}
