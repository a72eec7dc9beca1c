/** Small formatting helpers shared by the renderers (pure). */
import type { TInvariantResult, TReport, TSliFigures, TSloResult, TTrailEntry, TViolation } from './schema.js';

export function pct(v: number | null | undefined, digits = 2): string {
  return v === null || v === undefined ? '—' : `${v.toFixed(digits)}%`;
}

export function num(v: number | null | undefined, digits = 1): string {
  return v === null || v === undefined ? '—' : v.toFixed(digits);
}

export function dur(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

export function iso(t: number): string {
  return new Date(t).toISOString().replace('.000Z', 'Z');
}

/** `POST /checkout availability ≥ 99.5%` / `latency ≤ 2000 ms for ≥ 90%`. */
export function sloTarget(s: TSloResult): string {
  return s.sli === 'latency' ? `latency ≤ ${s.thresholdMs} ms for ≥ ${s.objective}%` : `availability ≥ ${s.objective}%`;
}

export function figure(s: TSloResult, source: TSliFigures['source']): TSliFigures | undefined {
  return s.figures.find((f) => f.source === source);
}

/**
 * Passed/total per kind of check; `violations` counts this run's findings,
 * `preExisting` those already there before it (they do not fail the run).
 */
export function counts(r: TReport): {
  slos: [number, number];
  breakers: [number, number];
  invariants: [number, number];
  violations: number;
  preExisting: number;
} {
  return {
    slos: [r.slos.filter((s) => s.verdict === 'pass').length, r.slos.length],
    breakers: [r.breakers.expectations.filter((b) => b.pass).length, r.breakers.expectations.length],
    invariants: [r.invariants.filter((i) => i.pass).length, r.invariants.length],
    violations: r.invariants.reduce((a, i) => a + newViolations(i).length, 0),
    preExisting: r.invariants.reduce((a, i) => a + preExistingCount(i), 0),
  };
}

/** This run's violations of an invariant (not pre-existing). */
export function newViolations(i: TInvariantResult): TViolation[] {
  return i.violations.filter((v) => !v.preExisting);
}

/** Pre-existing findings of an invariant: the full count when known, else those listed. */
export function preExistingCount(i: TInvariantResult): number {
  return i.preExisting ?? i.violations.filter((v) => v.preExisting).length;
}

/** `10:00:04.180` of an ISO time (trails happen within one run: the date is noise). */
export function clock(at: string | null): string {
  if (!at) return '—';
  const m = /T(\d\d:\d\d:\d\d(?:\.\d{1,3})?)/.exec(at);
  return m ? m[1]! : at;
}

/** One trail entry as a line of text: `10:00:04.180 [orders.sagas] saga started (step reserve)`. */
export function trailLine(e: TTrailEntry): string {
  return `${clock(e.at)} [${e.source}] ${e.text}`;
}

/** The settling line: `settled in 1.8 s (max 30.0 s)` or `not settled after 30.0 s: 3 sagas in flight`. */
export function settleText(s: NonNullable<TReport['settle']>): string {
  return s.settled ? `settled in ${dur(s.waitedMs)} (max ${dur(s.maxMs)})` : `not settled after ${dur(s.waitedMs)} (max ${dur(s.maxMs)}): ${s.detail}`;
}

/** `12 of 5 allowed` — the run's own error budget beside its share. */
export function budgetText(f: TSliFigures | undefined, digits = 0): string {
  if (!f || f.budgetConsumedPct === null) return '—';
  return `${pct(f.budgetConsumedPct, digits)} (${f.bad} bad of ${f.allowedBad.toFixed(1)} allowed)`;
}
