/** Small formatting helpers shared by the renderers (pure). */
import type { TReport, TSliFigures, TSloResult } from './schema.js';

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

export function counts(r: TReport): { slos: [number, number]; breakers: [number, number]; invariants: [number, number]; violations: number } {
  return {
    slos: [r.slos.filter((s) => s.verdict === 'pass').length, r.slos.length],
    breakers: [r.breakers.expectations.filter((b) => b.pass).length, r.breakers.expectations.length],
    invariants: [r.invariants.filter((i) => i.pass).length, r.invariants.length],
    violations: r.invariants.reduce((a, i) => a + i.violations.length, 0),
  };
}
