/**
 * The suite-level outputs of `faultline gate` (pure): the exit code, the
 * merged JUnit file CI systems read, and the summary table.
 */
import { xmlEscape } from '../workers/reports/index.js';

export interface TGateResult {
  experiment: string;
  file: string;
  runId: string | null;
  /** Final run state, or `error` when faultline itself failed before the run could end. */
  state: 'passed' | 'failed' | 'aborted' | 'errored' | 'error';
  reason: string | null;
  reportDir: string | null;
  durationMs: number;
  /** The run's junit.xml, when it has a report. */
  junit?: string;
}

/** 0 every verdict passed; 1 any failed or aborted; 2 any run errored or faultline failed (that wins: the gate could not judge). */
export function gateExitCode(results: readonly Pick<TGateResult, 'state'>[]): number {
  if (results.length === 0 || results.some((r) => r.state === 'errored' || r.state === 'error')) return 2;
  if (results.some((r) => r.state !== 'passed')) return 1;
  return 0;
}

/** One <testsuites> with every run's <testsuite>; a run without a report becomes a suite with one <error> case. */
export function mergeJunit(suiteName: string, results: readonly TGateResult[]): string {
  const suites: string[] = [];
  let tests = 0;
  let failures = 0;
  let errors = 0;
  for (const r of results) {
    const m = r.junit ? /<testsuite\b[\s\S]*?<\/testsuite>/.exec(r.junit) : null;
    if (m) {
      suites.push(`  ${m[0]}`);
      const attrs = /<testsuite\b([^>]*)>/.exec(m[0])![1]!;
      const num = (k: string) => Number(new RegExp(`\\b${k}="(\\d+)"`).exec(attrs)?.[1] ?? 0);
      tests += num('tests');
      failures += num('failures');
      errors += num('errors');
    } else {
      const msg = r.reason ?? `run ${r.state}`;
      suites.push(
        [
          `  <testsuite name="${xmlEscape(r.experiment)}" tests="1" failures="0" errors="1" skipped="0" time="${(r.durationMs / 1000).toFixed(3)}">`,
          `    <testcase classname="faultline.run" name="${xmlEscape(r.experiment)} completes" time="${(r.durationMs / 1000).toFixed(3)}">`,
          `      <error type="${xmlEscape(r.state)}" message="${xmlEscape(msg)}">${xmlEscape(msg)}</error>`,
          '    </testcase>',
          '  </testsuite>',
        ].join('\n'),
      );
      tests += 1;
      errors += 1;
    }
  }
  const time = (results.reduce((a, r) => a + r.durationMs, 0) / 1000).toFixed(3);
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${xmlEscape(suiteName)}" tests="${tests}" failures="${failures}" errors="${errors}" time="${time}">`,
    ...suites,
    '</testsuites>',
    '',
  ].join('\n');
}

function fmtDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

/** Markdown summary of the gate (also printed to stdout). */
export function gateSummary(suiteName: string, results: readonly TGateResult[], totalMs: number): string {
  const code = gateExitCode(results);
  const verdict = code === 0 ? 'PASSED' : code === 1 ? 'FAILED' : 'ERROR';
  const lines = [
    `# faultline gate: ${suiteName} — ${verdict}`,
    '',
    `${results.length} experiment(s) in ${fmtDuration(totalMs)} (gate start to verdict)`,
    '',
    '| experiment | verdict | time | reason | report |',
    '| --- | --- | --- | --- | --- |',
  ];
  for (const r of results)
    lines.push(`| ${r.experiment} | ${r.state} | ${fmtDuration(r.durationMs)} | ${(r.reason ?? '').replace(/\|/g, '\\|')} | ${r.reportDir ?? '-'} |`);
  return `${lines.join('\n')}\n`;
}
