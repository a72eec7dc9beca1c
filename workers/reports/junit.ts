/**
 * junit.xml: one test case per SLO, breaker expectation and invariant, so CI
 * systems show each check; failures carry the evidence as text. An aborted or
 * errored run adds a `run` case with an <error>.
 */
import { budgetText, counts, dur, newViolations, pct, preExistingCount, settleText, sloTarget, figure, trailLine } from './format.js';
import type { TReport } from './schema.js';

/** Escape text for XML 1.0, dropping characters XML cannot carry at all. */
export function xmlEscape(s: string): string {
  return (
    s
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '')
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;')
      .replace(/'/g, '&apos;')
  );
}

interface TCase {
  classname: string;
  name: string;
  failure?: { type: string; message: string; body: string };
  error?: { type: string; message: string; body: string };
  systemOut?: string;
}

/** Evidence lines per failed invariant are capped; report.json has them all. */
const EVIDENCE_LIMIT = 20;
/** Trail steps per violation in a failure text. */
const TRAIL_LIMIT = 15;

export function casesOf(r: TReport): TCase[] {
  const base = `faultline.${r.run.experiment}`;
  const cases: TCase[] = [];
  if (r.verdict === 'aborted' || r.verdict === 'errored')
    cases.push({
      classname: `${base}.run`,
      name: 'run',
      error: { type: r.verdict, message: r.reason ?? r.verdict, body: `run ${r.run.id} ${r.verdict}: ${r.reason ?? ''}` },
    });
  for (const s of r.slos) {
    const lines = s.figures.map(
      (f) =>
        `${f.source}: SLI ${pct(f.sli, 3)} (${f.good}/${f.valid}), run budget used ${budgetText(f, 1)}, worst burn 1m ${f.worstBurn1m?.toFixed(1) ?? '—'} / 5m ${f.worstBurn5m?.toFixed(1) ?? '—'}${f.note ? ` (${f.note})` : ''}`,
    );
    const decided = figure(s, s.decidedBy);
    cases.push({
      classname: `${base}.slo`,
      name: `${s.name}: ${s.route} ${sloTarget(s)}`,
      systemOut: lines.join('\n'),
      ...(s.verdict === 'fail'
        ? {
            failure: {
              type: 'slo',
              message: `${s.decidedBy} SLI ${pct(decided?.sli)} below ${s.objective}%${decided?.note ? ` (${decided.note})` : ''}`,
              body: lines.join('\n'),
            },
          }
        : {}),
    });
  }
  for (const b of r.breakers.expectations)
    cases.push({
      classname: `${base}.breaker`,
      name: `${b.breaker} opens during ${b.fault} and closes within ${dur(b.closesWithinMs)}`,
      systemOut: b.message,
      ...(b.pass ? {} : { failure: { type: 'breaker', message: b.message, body: b.message } }),
    });
  for (const i of r.invariants) {
    const old = preExistingCount(i);
    const settle = r.settle ? `; ${settleText(r.settle)}` : '';
    const c: TCase = {
      classname: `${base}.invariant`,
      name: i.name,
      systemOut: `${i.description}; checked ${i.checked}${settle}${old ? `; ${old} pre-existing finding(s) from before the run, not counted` : ''}`,
    };
    const fresh = newViolations(i);
    if (i.error) c.error = { type: 'check-error', message: i.error, body: i.error };
    else if (!i.pass) {
      const body = fresh
        .slice(0, EVIDENCE_LIMIT)
        .map((v) => {
          const trail = v.trail ?? [];
          return (
            `[${v.kind}] ${v.message}\n  ids: ${v.ids.join(', ')}` +
            (trail.length
              ? `\n  trail:\n${trail
                  .slice(0, TRAIL_LIMIT)
                  .map((e) => `    ${trailLine(e)}`)
                  .join('\n')}${trail.length > TRAIL_LIMIT ? `\n    … ${trail.length - TRAIL_LIMIT} more steps` : ''}`
              : '') +
            (v.rows.length ? `\n  rows: ${JSON.stringify(v.rows)}` : '') +
            (v.events.length ? `\n  client events: ${JSON.stringify(v.events)}` : '')
          );
        })
        .join('\n');
      const more = fresh.length > EVIDENCE_LIMIT ? `\n… ${fresh.length - EVIDENCE_LIMIT} more in report.json` : '';
      c.failure = { type: 'invariant', message: `${fresh.length} violation(s): ${fresh[0]?.message ?? ''}`, body: body + more };
    }
    cases.push(c);
  }
  return cases;
}

export function renderJunit(r: TReport): string {
  const cases = casesOf(r);
  const failures = cases.filter((c) => c.failure).length;
  const errors = cases.filter((c) => c.error).length;
  const time = ((r.run.endedAt - r.run.startedAt) / 1000).toFixed(3);
  const c = counts(r);
  const props: [string, string][] = [
    ['runId', r.run.id],
    ['verdict', r.verdict],
    ['reason', r.reason ?? ''],
    ['bugs', r.run.bugs.join(',')],
    ['slos', `${c.slos[0]}/${c.slos[1]}`],
    ['breakers', `${c.breakers[0]}/${c.breakers[1]}`],
    ['invariants', `${c.invariants[0]}/${c.invariants[1]}`],
  ];
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>'];
  out.push(`<testsuites name="faultline" tests="${cases.length}" failures="${failures}" errors="${errors}" time="${time}">`);
  out.push(
    `  <testsuite name="${xmlEscape(r.run.experiment)}" tests="${cases.length}" failures="${failures}" errors="${errors}" skipped="0" time="${time}" timestamp="${new Date(r.run.startedAt).toISOString()}">`,
  );
  out.push('    <properties>');
  for (const [k, v] of props) out.push(`      <property name="${xmlEscape(k)}" value="${xmlEscape(v)}"/>`);
  out.push('    </properties>');
  for (const tc of cases) {
    out.push(`    <testcase classname="${xmlEscape(tc.classname)}" name="${xmlEscape(tc.name)}" time="0">`);
    if (tc.failure)
      out.push(`      <failure type="${xmlEscape(tc.failure.type)}" message="${xmlEscape(tc.failure.message)}">${xmlEscape(tc.failure.body)}</failure>`);
    if (tc.error) out.push(`      <error type="${xmlEscape(tc.error.type)}" message="${xmlEscape(tc.error.message)}">${xmlEscape(tc.error.body)}</error>`);
    if (tc.systemOut) out.push(`      <system-out>${xmlEscape(tc.systemOut)}</system-out>`);
    out.push('    </testcase>');
  }
  out.push('  </testsuite>');
  out.push('</testsuites>');
  return `${out.join('\n')}\n`;
}
