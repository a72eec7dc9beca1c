/** What a report gives the runs table: its summary counts and one violation row per failed check. */
import type { TReport } from './schema.js';

export interface TViolationRecord {
  kind: 'slo' | 'breaker' | 'consistency' | 'history';
  name: string;
  message: string;
  evidence: unknown;
}

export function summaryOf(report: TReport): Record<string, unknown> {
  const count = <T>(xs: T[], ok: (x: T) => boolean) => ({ passed: xs.filter(ok).length, failed: xs.filter((x) => !ok(x)).length });
  return {
    slos: count(report.slos, (s) => s.verdict === 'pass'),
    breakers: count(report.breakers.expectations, (b) => b.pass),
    invariants: count(report.invariants, (i) => i.pass),
    requests: report.load.requests,
  };
}

export function violationsOf(report: TReport): TViolationRecord[] {
  const out: TViolationRecord[] = [];
  for (const s of report.slos)
    if (s.verdict === 'fail')
      out.push({ kind: 'slo', name: s.name, message: `SLO ${s.name} (${s.route}, ${s.sli} ${s.objective}%) failed`, evidence: s.figures });
  for (const b of report.breakers.expectations)
    if (!b.pass)
      out.push({
        kind: 'breaker',
        name: `${b.breaker} during ${b.fault}`,
        message: (b as { message?: string }).message ?? `breaker ${b.breaker} expectation failed`,
        evidence: b,
      });
  for (const i of report.invariants)
    if (!i.pass) {
      const kind = ['history-consistent', 'acknowledged-orders-exist', 'acknowledged-writes-exist'].includes(i.name) ? 'history' : 'consistency';
      if (i.violations.length === 0) out.push({ kind, name: i.name, message: i.error ?? `invariant ${i.name} failed`, evidence: { error: i.error ?? null } });
      for (const v of i.violations) out.push({ kind, name: i.name, message: v.message, evidence: v });
    }
  return out;
}
