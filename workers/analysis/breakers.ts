/**
 * Circuit-breaker analysis: a state timeline per breaker and instance, built
 * from breaker state samples read through a mapping (the shop's
 * `circuit_breaker_state`, 0 closed, 1 open, 2 half-open, by default; a
 * target file's `metrics.breakers`, e.g. Resilience4j's one series per state)
 * and from the services' breaker log lines (exact transition times), then trips
 * lined up with the fault windows and the experiment's expectations checked.
 *
 *   samples ─┐   observations   per instance        trips ∩ fault windows
 *            ├─▶ {t, state} ──▶ segments ────────▶  time to open / to close
 *   logs ────┘   (sorted)       (state changes)     flapping, expectations
 */
import type { TBreakerExpectation, TTimedFault } from '../../experiments/index.js';
import type { TBreakerExpectationResult, TBreakerState, TBreakerTimeline } from '../reports/schema.js';
import type { TFaultWindowLike, TLogRecord, TMetricSample } from './types.js';

interface TObservation {
  t: number;
  breaker: string;
  service: string;
  instance: string;
  state: TBreakerState;
  source: 'metric' | 'log';
}

/**
 * How breaker state is read from scraped samples: the shape of a target
 * file's `metrics.breakers` as `breakerMapping` (targets/) spells it out,
 * kept structural here so the analysis stays free of the target module.
 */
export interface TBreakerMapping {
  /** Sample name, e.g. `circuit_breaker_state`. */
  metric: string;
  /** Label naming the breaker. */
  name_label: string;
  /**
   * `value`: the sample's value is the state (`states` gives each state's value).
   * `label`: one series per state, `state_label` names it, the current one has value 1 (Resilience4j).
   */
  encoding: 'value' | 'label';
  state_label?: string;
  states: { readonly closed: number | string; readonly open: number | string; readonly half_open: number | string };
  /**
   * Further values read as open or closed: Resilience4j's `forced_open` rejects calls (open),
   * `disabled` and `metrics_only` let every call through (closed).
   */
  also?: { readonly open?: readonly (number | string)[]; readonly closed?: readonly (number | string)[] };
}

/** faultline's own breakers (the shop's): the `circuit_breaker_state` gauge, 0 closed, 1 open, 2 half-open, labelled `breaker`. */
export const FAULTLINE_BREAKER_MAPPING: TBreakerMapping = {
  metric: 'circuit_breaker_state',
  name_label: 'breaker',
  encoding: 'value',
  states: { closed: 0, open: 1, half_open: 2 },
};

const STATE_NAMES = [
  ['closed', 'closed'],
  ['open', 'open'],
  ['half_open', 'half-open'],
] as const;

/** The breaker name and state one sample reports through `m`, or null (another metric, no name, a state the mapping does not read, or not the current one). */
export function breakerSampleState(s: TMetricSample, m: TBreakerMapping): { breaker: string; state: TBreakerState } | null {
  if (s.metric !== m.metric) return null;
  const breaker = s.labels[m.name_label];
  if (!breaker) return null;
  const is = (v: number | string, x: number | string) =>
    m.encoding === 'value' ? Number(v) === Number(x) : String(v).toLowerCase() === String(x).toLowerCase();
  let current: number | string;
  if (m.encoding === 'value') current = s.value;
  else {
    // one series per state: the current one is 1, the others 0
    const label = s.labels[m.state_label ?? 'state'];
    if (s.value !== 1 || label === undefined) return null;
    current = label;
  }
  for (const [key, state] of STATE_NAMES) if (is(current, m.states[key])) return { breaker, state };
  if (m.also?.open?.some((x) => is(current, x))) return { breaker, state: 'open' };
  if (m.also?.closed?.some((x) => is(current, x))) return { breaker, state: 'closed' };
  return null;
}

function normaliseState(v: unknown): TBreakerState | null {
  if (typeof v !== 'string') return null;
  const s = v.toLowerCase().replace(/[_\s]/g, '-');
  if (s === 'open' || s === 'opened' || s === 'break' || s === 'isolated') return 'open';
  if (s === 'closed' || s === 'close' || s === 'reset') return 'closed';
  if (s === 'half-open' || s === 'halfopen' || s === 'half-opened') return 'half-open';
  return null;
}

function timeOf(v: TLogRecord['time']): number {
  return v instanceof Date ? v.getTime() : typeof v === 'number' ? v : Date.parse(v);
}

/**
 * A breaker transition in a log line, or null. Accepts structured fields
 * (`breaker` plus `state`/`to`/`event`) and falls back to the message
 * ("breaker orders->payments opened").
 */
export function breakerLogTransition(rec: TLogRecord): { breaker: string; state: TBreakerState } | null {
  const f = rec.fields ?? {};
  const breaker = typeof f.breaker === 'string' ? f.breaker : undefined;
  if (breaker) {
    const state = normaliseState(f.to) ?? normaliseState(f.state) ?? normaliseState(f.event);
    if (state) return { breaker, state };
  }
  const m = /breaker\s+(\S+->\S+)\s+(?:is\s+|->\s*|to\s+)?(opened|open|closed|close|reset|half[-_ ]?open(?:ed)?)\b/i.exec(rec.msg);
  if (m) {
    const state = normaliseState(m[2]);
    if (state) return { breaker: m[1], state };
  }
  return null;
}

function observationsOf(samples: readonly TMetricSample[], logs: readonly TLogRecord[], mapping: TBreakerMapping): TObservation[] {
  const obs: TObservation[] = [];
  for (const s of samples) {
    const read = breakerSampleState(s, mapping);
    if (!read) continue;
    obs.push({ t: s.t, breaker: read.breaker, service: s.labels.service ?? s.service, instance: s.instance, state: read.state, source: 'metric' });
  }
  for (const r of logs) {
    const tr = breakerLogTransition(r);
    const t = timeOf(r.time);
    if (tr && Number.isFinite(t)) obs.push({ t, breaker: tr.breaker, service: r.service, instance: r.instance, state: tr.state, source: 'log' });
  }
  // logs first on equal times: they carry the exact transition
  return obs.sort((a, b) => a.t - b.t || (a.source === b.source ? 0 : a.source === 'log' ? -1 : 1));
}

/** Options of analyseBreakers. */
export interface TBreakerAnalysisOptions {
  /**
   * A trip this long after a fault's removal is still attributed to it
   * (requests in flight when the fault ended).
   * @defaultValue 5000
   */
  graceMs?: number;
  /**
   * A metric sample this soon after a log transition that contradicts it is
   * a scrape that raced the transition, not a state change.
   * @defaultValue 1500
   */
  logPrecedenceMs?: number;
  /**
   * At least this many trips from closed (not failed half-open probes) on one instance within one minute mean the breaker flaps.
   * @defaultValue 3
   */
  flapLimit?: number;
  /**
   * How breaker state reads from the samples (a target file's `metrics.breakers`).
   * @defaultValue FAULTLINE_BREAKER_MAPPING (`circuit_breaker_state`, the shop's)
   */
  mapping?: TBreakerMapping;
}

/** Build the timeline of every breaker seen in samples or logs. */
export function breakerTimelines(
  samples: readonly TMetricSample[],
  logs: readonly TLogRecord[],
  faults: readonly TFaultWindowLike[],
  runEnd: number,
  opts: TBreakerAnalysisOptions = {},
): TBreakerTimeline[] {
  const grace = opts.graceMs ?? 5000;
  const precedence = opts.logPrecedenceMs ?? 1500;
  const flapLimit = opts.flapLimit ?? 3;
  const byBreaker = new Map<string, TObservation[]>();
  for (const o of observationsOf(samples, logs, opts.mapping ?? FAULTLINE_BREAKER_MAPPING)) {
    const arr = byBreaker.get(o.breaker);
    if (arr) arr.push(o);
    else byBreaker.set(o.breaker, [o]);
  }
  const out: TBreakerTimeline[] = [];
  for (const [breaker, obs] of [...byBreaker].sort(([a], [b]) => a.localeCompare(b))) {
    const segments: TBreakerTimeline['segments'] = [];
    const trips: TBreakerTimeline['trips'] = [];
    const current = new Map<string, { state: TBreakerState; from: number }>();
    const lastLog = new Map<string, { t: number; state: TBreakerState }>();
    for (const o of obs) {
      if (o.source === 'log') lastLog.set(o.instance, { t: o.t, state: o.state });
      else {
        const ll = lastLog.get(o.instance);
        if (ll && o.t - ll.t <= precedence && ll.state !== o.state) continue;
      }
      const cur = current.get(o.instance);
      if (cur && cur.state === o.state) continue;
      if (cur) segments.push({ instance: o.instance, state: cur.state, from: cur.from, to: o.t });
      current.set(o.instance, { state: o.state, from: o.t });
      // the first observation of a breaker already open counts as a trip only
      // when it comes after a known closed state
      if (o.state === 'open' && cur) {
        const fault = faults.find((f) => f.appliedAt !== null && o.t >= f.appliedAt && o.t <= (f.removedAt ?? runEnd) + grace);
        trips.push({
          t: o.t,
          instance: o.instance,
          from: cur.state,
          fault: fault?.name ?? null,
          afterFaultStartMs: fault?.appliedAt != null ? o.t - fault.appliedAt : null,
        });
      }
    }
    const lastT = Math.max(runEnd, obs[obs.length - 1].t);
    for (const [instance, cur] of current) segments.push({ instance, state: cur.state, from: cur.from, to: lastT });
    segments.sort((a, b) => a.instance.localeCompare(b.instance) || a.from - b.from);
    let flapping = false;
    const tripsByInstance = new Map<string, number[]>();
    // A failed half-open probe re-opening the breaker is the breaker doing its
    // job during a fault; flapping is closing and tripping again and again.
    for (const tr of trips) if (tr.from === 'closed') tripsByInstance.set(tr.instance, [...(tripsByInstance.get(tr.instance) ?? []), tr.t]);
    for (const ts of tripsByInstance.values()) for (let i = 0; i + flapLimit - 1 < ts.length; i++) if (ts[i + flapLimit - 1] - ts[i] <= 60_000) flapping = true;
    out.push({
      breaker,
      service: obs[0].service,
      instances: [...current.keys()].sort(),
      segments,
      trips,
      unexpectedTrips: trips.filter((t) => t.fault === null).length,
      flapping,
      sources: { metricSamples: obs.filter((o) => o.source === 'metric').length, logLines: obs.filter((o) => o.source === 'log').length },
    });
  }
  return out;
}

/** State of every instance of a timeline at time t (latest segment starting at or before t). */
function statesAt(tl: TBreakerTimeline, t: number): Map<string, TBreakerState> {
  const m = new Map<string, TBreakerState>();
  for (const s of tl.segments) if (s.from <= t && t < s.to) m.set(s.instance, s.state);
  return m;
}

/**
 * Check each breaker expectation: the breaker (on any instance) opens within
 * `opens_within` (default: the fault's planned duration) of the fault being
 * applied, and every instance is closed again within `closes_within` after
 * the fault was removed.
 */
export function checkBreakerExpectations(
  expectations: readonly TBreakerExpectation[],
  timelines: readonly TBreakerTimeline[],
  faults: readonly (TFaultWindowLike & Pick<TTimedFault, 'duration'>)[],
  runEnd: number,
  opts: Pick<TBreakerAnalysisOptions, 'mapping'> = {},
): TBreakerExpectationResult[] {
  const metric = (opts.mapping ?? FAULTLINE_BREAKER_MAPPING).metric;
  return expectations.map((x) => {
    const fault = faults.find((f) => f.name === x.opens_during);
    const opensWithinMs = x.opens_within ?? fault?.duration ?? 0;
    const base = { breaker: x.breaker, fault: x.opens_during, opensWithinMs, closesWithinMs: x.closes_within };
    const tl = timelines.find((t) => t.breaker === x.breaker);
    if (!fault || fault.appliedAt === null)
      return {
        ...base,
        pass: false,
        timeToOpenMs: null,
        timeToCloseMs: null,
        message: `fault ${x.opens_during} was never applied, so the breaker could not be judged`,
      };
    if (!tl)
      return {
        ...base,
        pass: false,
        timeToOpenMs: null,
        timeToCloseMs: null,
        message: `no state observed for breaker ${x.breaker} (no ${metric} samples or breaker log lines)`,
      };
    const start = fault.appliedAt;
    const end = fault.removedAt ?? runEnd;
    const trip = tl.trips.find((t) => t.t >= start && t.t <= start + opensWithinMs);
    const alreadyOpen = [...statesAt(tl, start).values()].some((s) => s !== 'closed');
    const timeToOpenMs = trip ? trip.t - start : alreadyOpen ? 0 : null;
    if (timeToOpenMs === null) {
      const late = tl.trips.find((t) => t.t > start + opensWithinMs && t.t <= end);
      return {
        ...base,
        pass: false,
        timeToOpenMs: late ? late.t - start : null,
        timeToCloseMs: null,
        message: late
          ? `opened ${fmt(late.t - start)} after ${x.opens_during} started, later than ${fmt(opensWithinMs)}`
          : `did not open during ${x.opens_during} (${fmt(end - start)} of fault)`,
      };
    }
    // walk forward from the fault's end until every instance is closed
    let timeToCloseMs: number | null = null;
    const points = [end, ...tl.segments.map((s) => s.from).filter((t) => t > end)].sort((a, b) => a - b);
    for (const p of points) {
      const st = statesAt(tl, p);
      if (st.size > 0 && [...st.values()].every((s) => s === 'closed')) {
        timeToCloseMs = p - end;
        break;
      }
    }
    const closedOk = timeToCloseMs !== null && timeToCloseMs <= x.closes_within;
    const opened = `opened ${fmt(timeToOpenMs)} after ${x.opens_during} started (limit ${fmt(opensWithinMs)})`;
    const closed =
      timeToCloseMs === null
        ? `still not closed ${fmt(Math.max(0, runEnd - end))} after the fault ended (limit ${fmt(x.closes_within)})`
        : `closed ${fmt(timeToCloseMs)} after it ended (limit ${fmt(x.closes_within)})`;
    return { ...base, pass: closedOk, timeToOpenMs, timeToCloseMs, message: `${opened}; ${closed}` };
  });
}

function fmt(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}
