import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXPERIMENTS_DIR, loadExperimentFile } from '../../../experiments/index.js';
import { ReportSchema } from '../../reports/index.js';
import { analyseRun, faultWindows, type THistoryEventLike, type TRunRecord } from '../index.js';

const T0 = 1_700_000_000_000;

async function record(over: Partial<TRunRecord> = {}): Promise<TRunRecord> {
  const experiment = await loadExperimentFile(path.join(EXPERIMENTS_DIR, 'payments-latency.yaml'));
  const history: THistoryEventLike[] = [];
  for (let i = 0; i < 40; i++) {
    history.push({ index: 2 * i, type: 'invoke', f: 'browse', process: i, time: T0 + i * 1000, value: {} });
    history.push({
      index: 2 * i + 1,
      type: 'ok',
      f: 'browse',
      process: i,
      time: T0 + i * 1000 + 20,
      value: { status: 200 },
      latencyMs: 20,
      correctedLatencyMs: 20,
    });
  }
  return {
    runId: 'r1',
    experiment,
    loadStart: T0,
    loadEnd: T0 + 40_000,
    endedAt: T0 + 50_000,
    ended: 'completed',
    engine: 'builtin',
    history,
    seconds: [],
    samples: [],
    logs: [],
    faultTimes: [{ name: 'payments-slow', appliedAt: T0 + 10_000, removedAt: T0 + 25_000 }],
    ...over,
  };
}

describe('analyseRun', () => {
  it('fails what it could not check: no checkout traffic, no breaker data, no shop database', async () => {
    const r = await analyseRun(await record(), { now: T0 + 60_000 });
    expect(ReportSchema.parse(r)).toEqual(r);
    expect(r.verdict).toBe('failed');
    expect(r.slos.map((s) => [s.name, s.verdict])).toEqual([
      ['browse-availability', 'pass'],
      ['checkout-latency', 'fail'],
    ]);
    expect(r.breakers.expectations[0].message).toMatch(/no state observed/);
    expect(r.invariants).toHaveLength(9);
    expect(r.invariants.every((i) => !i.pass && /no consistency checks/.test(i.error ?? ''))).toBe(true);
    expect(r.load.requests).toBe(40);
    expect(r.faults[0]).toMatchObject({ name: 'payments-slow', type: 'latency', target: 'orders->payments', plannedAtMs: 4000, appliedAt: T0 + 10_000 });
  });

  it('a load test is judged by its k6 thresholds; an experiment under faults only records them (console load tests ignored them)', async () => {
    const thresholds = [
      { metric: 'http_req_failed', expression: 'rate<0.01', ok: false },
      { metric: 'http_req_duration', expression: 'p(95)<500', ok: true },
    ];
    const base = await record();
    const loadTest = { ...base.experiment, tags: ['loadtest'], faults: [], expectations: { ...base.experiment.expectations, breakers: [], invariants: [] } };
    const judged = await analyseRun({ ...base, experiment: loadTest, faultTimes: [], thresholds });
    expect(judged.load.thresholds).toEqual(thresholds);
    expect(judged.load.thresholdsJudged).toBe(true);
    expect(judged.reason).toContain('threshold http_req_failed: rate<0.01');
    const passing = await analyseRun({ ...base, experiment: loadTest, faultTimes: [], thresholds: [thresholds[1]!] });
    expect(passing.reason ?? '').not.toContain('threshold');
    const experiment = await analyseRun({ ...base, thresholds });
    expect(experiment.load.thresholdsJudged).toBe(false);
    expect(experiment.reason ?? '').not.toContain('threshold');
  });

  it('an aborted run keeps its state and reason', async () => {
    const r = await analyseRun(await record({ ended: 'aborted', endReason: 'error rate above 90% for 10s' }));
    expect(r.verdict).toBe('aborted');
    expect(r.reason).toBe('error rate above 90% for 10s');
  });

  it('invariants fail with the error when there is no checker, or the checker cannot run: never pass', async () => {
    const none = await analyseRun(await record());
    expect(none.invariants.length).toBeGreaterThan(0);
    expect(none.invariants.every((i) => !i.pass && /no consistency checks/.test(i.error ?? ''))).toBe(true);
    const down = await analyseRun(await record(), {
      consistency: async () => {
        throw new Error('connect ECONNREFUSED 127.0.0.1:1');
      },
    });
    expect(down.invariants.every((i) => !i.pass && /could not run: connect ECONNREFUSED/.test(i.error ?? ''))).toBe(true);
    expect(down.verdict).toBe('failed');
  });

  it('faultWindows marks faults that never ran', async () => {
    const x = (await record()).experiment;
    expect(faultWindows(x, [])).toEqual([
      { name: 'payments-slow', type: 'latency', target: 'orders->payments', plannedAtMs: 4000, plannedDurationMs: 18_000, appliedAt: null, removedAt: null },
    ]);
  });
});
