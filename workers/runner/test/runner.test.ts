/**
 * Runner lifecycle against the real shop (supervisor + processes), the real
 * fault proxy, real Postgres and Redis: verdicts, fault removal on every
 * path, aborts, one run per target.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { faults, reports, runs } from '../../../db/schema/index.js';
import { enqueueRun, getRunEvents, requestAbort, startWorker, waitForRun, type TRunningWorker } from '../../index.js';
import { startRunnerFixture, waitFor, type TRunnerFixture } from './helpers.js';

const shortExperiment = (name: string, extra = '') => `
name: ${name}
description: short run with a latency fault on orders->payments
load:
  scenario: checkout-mix
  rate: 8
  duration: 7s
steady_state:
  slos:
    - name: browse-availability
      route: GET /products
      sli: availability
      objective: 50
faults:
  - name: slow-payments
    at: 1s
    duration: 3s
    fault:
      type: latency
      target: orders->payments
      params:
        latencyMs: 200
quiescence: 1s
${extra}`;

let fx: TRunnerFixture;
let worker: TRunningWorker;
const logLines: string[] = [];

beforeAll(async () => {
  fx = await startRunnerFixture();
  worker = await startWorker({
    platform: fx.platform,
    heartbeatMs: 500,
    staleAfterMs: 4000,
    sweepEveryMs: 1000,
    busyRetryMs: 500,
    steadyStateWaitMs: 3000,
    log: (l) => logLines.push(l),
  });
}, 180_000);

afterAll(async () => {
  await worker?.stop();
  await fx?.close();
}, 120_000);

describe('runner on the real shop', () => {
  it('runs two experiments on one target one after the other to a verdict, leaving no fault behind', async () => {
    const a = await enqueueRun(fx.platform, { yaml: shortExperiment('short-a'), trigger: 'cli' });
    const b = await enqueueRun(fx.platform, { yaml: shortExperiment('short-b'), trigger: 'cli' });
    const [ra, rb] = await Promise.all([waitForRun(fx.platform, a.runId, { timeoutMs: 150_000 }), waitForRun(fx.platform, b.runId, { timeoutMs: 150_000 })]);
    for (const r of [ra, rb]) {
      expect(['passed', 'failed'], `${r.state}: ${r.reason}`).toContain(r.state);
      expect(r.steadyStateAt && r.runningAt && r.recoveringAt && r.analysingAt && r.endedAt).toBeTruthy();
      expect(r.runningAt!.getTime()).toBeLessThan(r.recoveringAt!.getTime());
    }
    // one run per target: the second started only after the first ended
    const [first, second] = [ra, rb].sort((x, y) => x.steadyStateAt!.getTime() - y.steadyStateAt!.getTime());
    expect(second!.steadyStateAt!.getTime()).toBeGreaterThanOrEqual(first!.endedAt!.getTime());

    const events = await getRunEvents(fx.platform, a.runId);
    const phases = events.filter((e) => e.type === 'phase').map((e) => (e as { phase: string }).phase);
    expect(phases.slice(0, 4)).toEqual(['steady_state', 'running', 'recovering', 'analysing']);
    const applied = events.find((e) => e.type === 'fault.applied');
    const removed = events.find((e) => e.type === 'fault.removed');
    expect(applied).toBeTruthy();
    expect(removed).toMatchObject({ name: 'slow-payments' });
    expect((removed as { error?: string }).error).toBeUndefined();
    expect(events.filter((e) => e.type === 'load.second').length).toBeGreaterThanOrEqual(5);
    expect(events.at(-1)).toMatchObject({ type: 'verdict', verdict: ra.state });

    // the fault was really on the proxy, for about its planned 3 s, and is gone
    const ledger = await fx.platform.db.select().from(faults).where(eq(faults.runId, a.runId));
    expect(ledger).toHaveLength(1);
    expect(ledger[0]!.status).toBe('removed');
    const heldMs = ledger[0]!.removedAt!.getTime() - ledger[0]!.appliedAt.getTime();
    expect(heldMs).toBeGreaterThan(2000);
    // removed at its own planned end (1 s + 3 s into a 7 s load), not with the load: measured against the
    // run's own phase times, which a busy machine stretches alike, rather than a wall-clock bound
    expect(ra.recoveringAt!.getTime() - ledger[0]!.removedAt!.getTime()).toBeGreaterThan(3000 / 2);
    expect(await fx.toxics()).toEqual([]);

    const [rep] = await fx.platform.db.select().from(reports).where(eq(reports.runId, a.runId));
    expect(rep!.files).toEqual(expect.arrayContaining(['report.json', 'junit.xml', 'summary.md', 'report.html']));
    expect(existsSync(path.join(rep!.dir!, 'report.json'))).toBe(true);
    expect((rep!.report as { verdict: string }).verdict).toBe(ra.state);
    const samples = await fx.platform.db.$client.query('select count(*)::int n from metric_series where run_id = $1', [a.runId]);
    expect(samples.rows[0].n).toBeGreaterThan(0);
    // the shop's instances keep their supervisor ids (its http_sd's `instance` label), as the run page's lanes name them
    const instances = await fx.platform.db.$client.query<{ instance: string }>('select distinct instance from metric_series where run_id = $1', [a.runId]);
    expect(instances.rows.map((r) => r.instance)).toEqual(expect.arrayContaining(['gateway-0', 'orders-0', 'payments-0']));
  }, 200_000);

  it('ends the run aborted when an abort condition trips, with the fault removed', async () => {
    const yaml = `
name: abort-on-errors
description: every gateway request fails; the error-rate condition must stop the run
load:
  scenario: checkout-mix
  rate: 10
  duration: 20s
steady_state:
  slos:
    - name: browse-availability
      route: GET /products
      sli: availability
      objective: 99
faults:
  - name: gateway-503
    at: 1s
    duration: 15s
    fault:
      type: http_abort
      target: gateway
      params:
        status: 503
abort:
  - kind: error_rate
    above: 50
    for: 2s
quiescence: 1s
`;
    const { runId } = await enqueueRun(fx.platform, { yaml, trigger: 'cli' });
    const r = await waitForRun(fx.platform, runId, { timeoutMs: 90_000 });
    expect(r.state).toBe('aborted');
    expect(r.reason).toMatch(/error rate above 50%/);
    // stopped well before the planned 20 s load: counted in the load's own seconds, not from runningAt
    // (on a busy machine the load itself started 10 s after runningAt, so a wall-clock bound measured that)
    const loadSeconds = (await getRunEvents(fx.platform, runId)).filter((e) => e.type === 'load.second').length;
    expect(loadSeconds).toBeGreaterThan(0);
    expect(loadSeconds).toBeLessThan(15);
    const ledger = await fx.platform.db.select().from(faults).where(eq(faults.runId, runId));
    expect(ledger.map((f) => f.status)).toEqual(['removed']);
    const httpFaults = (await (await fetch(`${fx.supervisor.url}/http-faults`)).json()) as unknown[];
    expect(httpFaults).toEqual([]);
    const events = await getRunEvents(fx.platform, runId);
    expect(events.some((e) => e.type === 'abort')).toBe(true);
    expect(events.at(-1)).toMatchObject({ type: 'verdict', verdict: 'aborted' });
  }, 120_000);

  it('aborts on request (console button / Ctrl-C) and removes the fault', async () => {
    const yaml = shortExperiment('abort-request').replace('duration: 7s', 'duration: 30s').replace('duration: 3s', 'duration: 25s');
    const { runId } = await enqueueRun(fx.platform, { yaml, trigger: 'console' });
    await waitFor('fault applied', async () => (await getRunEvents(fx.platform, runId)).some((e) => e.type === 'fault.applied'), 60_000);
    expect((await fx.toxics()).length).toBeGreaterThan(0);
    await requestAbort(fx.platform, runId, 'test says stop');
    const r = await waitForRun(fx.platform, runId, { timeoutMs: 60_000 });
    expect(r.state).toBe('aborted');
    expect(r.reason).toContain('test says stop');
    expect(await fx.toxics()).toEqual([]);
  }, 120_000);

  it('aborts before any load or fault when the steady state does not hold (an instance paused)', async () => {
    const pause = await fetch(`${fx.supervisor.url}/instances/payments-0/pause`, { method: 'POST' });
    expect(pause.ok).toBe(true);
    try {
      const { runId } = await enqueueRun(fx.platform, { yaml: shortExperiment('not-steady'), trigger: 'cli' });
      const r = await waitForRun(fx.platform, runId, { timeoutMs: 60_000 });
      expect(r.state).toBe('aborted');
      expect(r.reason).toMatch(/steady state not met: instances running \(not running: payments-0 paused\)/);
      expect(r.runningAt).toBeNull();
      expect(await fx.platform.db.select().from(faults).where(eq(faults.runId, runId))).toEqual([]);
    } finally {
      await fetch(`${fx.supervisor.url}/instances/payments-0/resume`, { method: 'POST' });
    }
  }, 90_000);

  it('refuses a bad experiment with field-level issues and queues nothing', async () => {
    await expect(
      enqueueRun(fx.platform, { yaml: 'name: x\ndescription: y\nload: {scenario: checkout-mix}\nsteady_state: {slos: []}\n' }),
    ).rejects.toMatchObject({
      code: 'VALIDATION',
      issues: [expect.objectContaining({ path: 'steady_state.slos', line: 4 })],
    });
    expect(await fx.platform.db.select().from(runs).where(eq(runs.experimentName, 'x'))).toEqual([]);
  });
});
