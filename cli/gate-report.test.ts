import { describe, expect, it } from 'vitest';
import { gateExitCode, gateSummary, mergeJunit, type TGateResult } from './gate-report.js';
import { eventLine } from './progress.js';
import { exitCodeOf } from './execute-experiment.js';

const junitOf = (name: string, tests: number, failures: number) =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="faultline" tests="${tests}" failures="${failures}" errors="0" time="1.000">\n  <testsuite name="${name}" tests="${tests}" failures="${failures}" errors="0" skipped="0" time="1.000" timestamp="x">\n    <testcase classname="slo" name="a" time="0"/>\n  </testsuite>\n</testsuites>\n`;

const res = (over: Partial<TGateResult>): TGateResult => ({
  experiment: 'e',
  file: 'e.yaml',
  runId: '1',
  state: 'passed',
  reason: null,
  reportDir: '/r/e',
  durationMs: 1000,
  ...over,
});

describe('gate outputs', () => {
  it('exit code: 0 all passed, 1 any failed or aborted, 2 any error (or nothing ran)', () => {
    expect(gateExitCode([res({}), res({})])).toBe(0);
    expect(gateExitCode([res({}), res({ state: 'failed' })])).toBe(1);
    expect(gateExitCode([res({ state: 'aborted' })])).toBe(1);
    expect(gateExitCode([res({ state: 'failed' }), res({ state: 'errored' })])).toBe(2);
    expect(gateExitCode([res({ state: 'error' })])).toBe(2);
    expect(gateExitCode([])).toBe(2);
    expect([exitCodeOf('passed'), exitCodeOf('failed'), exitCodeOf('aborted'), exitCodeOf('errored')]).toEqual([0, 1, 1, 2]);
  });

  it('merges every run suite into one testsuites element with summed counts; a run without report is an error case', () => {
    const xml = mergeJunit('ci', [
      res({ experiment: 'a', junit: junitOf('a', 3, 1) }),
      res({ experiment: 'b', junit: junitOf('b', 4, 0) }),
      res({ experiment: 'c & d', state: 'error', reason: 'shop <down>', runId: null }),
    ]);
    expect(xml).toMatch(/<testsuites name="ci" tests="8" failures="1" errors="1" time="3.000">/);
    expect(xml.match(/<testsuite /g)).toHaveLength(3);
    expect(xml).toContain('<error type="error" message="shop &lt;down&gt;">');
    expect(xml).toContain('name="c &amp; d"');
    expect(xml.trim().endsWith('</testsuites>')).toBe(true);
  });

  it('summary names the verdict and every experiment', () => {
    const md = gateSummary('ci', [res({ experiment: 'a' }), res({ experiment: 'b', state: 'failed', reason: 'failed: SLO x | y' })], 125_000);
    expect(md).toContain('# faultline gate: ci — FAILED');
    expect(md).toContain('2 experiment(s) in 2m05s');
    expect(md).toContain('| b | failed | 1s | failed: SLO x \\| y | /r/e |');
  });

  it('progress lines for notable events', () => {
    const base = { runId: '1', seq: 1, t: 0 };
    expect(
      eventLine({ ...base, type: 'fault.applied', name: 'f', faultId: 'x', fault: { type: 'latency', target: 'orders->payments' }, plannedAt: 0, until: 1 }),
    ).toBe('fault f applied: latency on orders->payments');
    expect(eventLine({ ...base, type: 'verdict', verdict: 'failed', reason: 'failed: SLO a' })).toBe('verdict: FAILED — failed: SLO a');
    expect(
      eventLine({
        ...base,
        type: 'load.second',
        second: { t: 0, rps: 1, target: 1, errors: 0, errorsByKind: {}, p50: 1, p95: 1, p99: 1, cp99: 1, activeVus: 1, dropped: 0 },
      }),
    ).toBeUndefined();
  });
});
