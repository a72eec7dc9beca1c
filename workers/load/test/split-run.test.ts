/**
 * Runs whose load is split over worker processes (`load.segments: 2`), on
 * the real stack (shop under its supervisor, fault proxy, Postgres, Redis,
 * BullMQ): the runner's worker takes runs only, two load-only workers in
 * their own processes take the segments. A split run reaches the verdict of
 * the same run unsplit; a segment's worker killed mid-load (SIGKILL: none of
 * its code runs) ends the run errored naming the segment, with the run's
 * fault removed by the runner's normal cleanup.
 */
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { faults } from '../../../db/schema/index.js';
import { enqueueRun, getRun, getRunEvents, startWorker, waitForRun, type TRunningWorker } from '../../index.js';
import { startRunnerFixture, waitFor, type TRunnerFixture } from '../../runner/test/helpers.js';
import { spawnLoadWorker, stopChild, type TLoadChild } from './children.js';

const experiment = (name: string, o: { segments?: number; duration: string; fault?: boolean }) => `
name: ${name}
description: load ${o.segments ? `split into ${o.segments} segments` : 'in one generator'}
load:
  scenario: checkout-mix
  rate: 6
  duration: ${o.duration}
${o.segments ? `  segments: ${o.segments}\n` : ''}steady_state:
  slos:
    - name: browse-availability
      route: GET /products
      sli: availability
      objective: 50
${
  o.fault
    ? `faults:
  - name: slow-payments
    at: 1s
    duration: 50s
    fault:
      type: latency
      target: orders->payments
      params:
        latencyMs: 200
`
    : ''
}quiescence: 2s
`;

let fx: TRunnerFixture;
let runner: TRunningWorker;
const children: TLoadChild[] = [];

beforeAll(async () => {
  fx = await startRunnerFixture();
  runner = await startWorker({
    platform: fx.platform,
    roles: ['runs'],
    heartbeatMs: 500,
    steadyStateWaitMs: 10_000,
    segmentHeartbeatTimeoutMs: 5000,
    log: () => undefined,
  });
  const env = {
    FL_DATABASE_URL: fx.dbUrl,
    FL_PREFIX: fx.prefix,
    FL_TOXIPROXY_URL: fx.proxyUrl,
    FL_SUPERVISOR_URL: fx.supervisor.url,
    FL_GATEWAY_URL: fx.supervisor.gatewayUrl,
    FL_SHOP_DATABASE_URL: fx.shopDbUrl,
    FL_REPORT_DIR: fx.reportDir,
  };
  children.push(...(await Promise.all([spawnLoadWorker(env), spawnLoadWorker(env)])));
}, 240_000);

afterAll(async () => {
  await Promise.all(children.map((c) => stopChild(c)));
  await runner?.stop();
  await fx?.platform.loadQueue.obliterate({ force: true }).catch(() => undefined);
  await fx?.close();
}, 120_000);

describe('a run split over two worker processes', () => {
  it('reaches the same verdict as the same run unsplit; each worker ran one segment and the live series is merged', async () => {
    const split = await enqueueRun(fx.platform, { yaml: experiment('split-run', { segments: 2, duration: '8s' }), trigger: 'cli' });
    const a = await waitForRun(fx.platform, split.runId, { timeoutMs: 180_000 });
    const whole = await enqueueRun(fx.platform, { yaml: experiment('whole-run', { duration: '8s' }), trigger: 'cli' });
    const b = await waitForRun(fx.platform, whole.runId, { timeoutMs: 180_000 });

    expect(['passed', 'failed'], `split: ${a.state}: ${a.reason}`).toContain(a.state);
    expect(a.state, `split ${a.state} (${a.reason}) vs unsplit ${b.state} (${b.reason})`).toBe(b.state);

    const events = await getRunEvents(fx.platform, split.runId);
    expect(events).toContainEqual(expect.objectContaining({ type: 'note', msg: expect.stringMatching(/load split into 2 segments/) }));
    // the segments' progress, as the run page shows it (the last note)
    const progress = events.filter((e) => e.type === 'note' && /^load segments: /.test((e as { msg: string }).msg)).map((e) => (e as { msg: string }).msg);
    expect(progress.at(-1)).toMatch(/^load segments: 1\/2 done on \S+ \(\d+ s\) · 2\/2 done on \S+ \(\d+ s\)$/);
    expect(progress.some((m) => /running/.test(m))).toBe(true);
    const seconds = events.filter((e) => e.type === 'load.second') as unknown as { second: { rps: number } }[];
    expect(seconds.length).toBeGreaterThanOrEqual(3);
    expect(seconds.reduce((n, e) => n + e.second.rps, 0)).toBeGreaterThan(0);
    // what the run page's segment chart draws, stored with the run: each segment's states and its part of each second
    const states = events.filter((e) => e.type === 'load.segments') as unknown as { count: number; segments: { state: string; worker?: string }[] }[];
    expect(states.at(-1)?.count).toBe(2);
    expect(states.at(-1)?.segments.map((x) => x.state)).toEqual(['done', 'done']);
    expect(states.at(-1)?.segments.every((x) => x.worker && children.some((c) => c.workerId === x.worker))).toBe(true);
    expect(states.some((x) => x.segments.some((y) => y.state === 'running'))).toBe(true);
    const parts = (seconds as unknown as { second: { rps: number; target: number; segments?: { index: number; rps: number; target: number }[] } }[]).map(
      (e) => e.second,
    );
    expect(parts.every((x) => x.segments?.length)).toBe(true);
    expect(new Set(parts.flatMap((x) => x.segments!.map((y) => y.index)))).toEqual(new Set([0, 1]));
    // the parts add up to the merged second
    for (const x of parts) {
      expect(x.segments!.reduce((n, y) => n + y.rps, 0)).toBe(x.rps);
      expect(x.segments!.reduce((n, y) => n + y.target, 0)).toBe(x.target);
    }
    // each load-only process ran exactly one of the two segments of this run
    const ran = children.map((c) => [...c.out().matchAll(new RegExp(`load ${split.runId} segment (\\d)/2 ended \\(exit \\d+\\)`, 'g'))].map((m) => m[1]));
    expect(ran.map((r) => r.length)).toEqual([1, 1]);
    expect(ran.flat().sort()).toEqual(['1', '2']);
  }, 400_000);

  it('a segment worker killed mid-load ends the run errored, naming the segment, with no fault left behind', async () => {
    const { runId } = await enqueueRun(fx.platform, { yaml: experiment('split-crash', { segments: 2, duration: '60s', fault: true }), trigger: 'cli' });
    await waitFor(
      'the fault applied and the split load measuring',
      async () => {
        const ev = await getRunEvents(fx.platform, runId);
        return ev.some((e) => e.type === 'fault.applied') && ev.filter((e) => e.type === 'load.second').length >= 2;
      },
      180_000,
      250,
    );
    expect((await fx.toxics()).length).toBeGreaterThan(0);
    const [victim, survivor] = children;
    victim!.proc.kill('SIGKILL');
    await new Promise((r) => (victim!.proc.exitCode !== null || victim!.proc.signalCode !== null ? r(undefined) : victim!.proc.once('exit', r)));

    const ended = await waitFor(
      'run ended',
      async () => {
        const r = await getRun(fx.platform, runId);
        return r.state === 'running' ? undefined : r;
      },
      120_000,
      250,
    );
    expect(ended.state).toBe('errored');
    expect(ended.reason).toMatch(/^load segment [12]\/2 \(execution segment [^)]+\) lost its worker /);
    expect(ended.reason).toContain(victim!.workerId);
    // the runner's own cleanup (not a sweeper: the runner is alive) removed the fault
    await waitFor('toxics removed', async () => (await fx.toxics()).length === 0, 30_000);
    const ledger = await fx.platform.db.select().from(faults).where(eq(faults.runId, runId));
    expect(ledger.map((f) => f.status)).toEqual(['removed']);
    const events = await getRunEvents(fx.platform, runId);
    expect(events).toContainEqual(expect.objectContaining({ type: 'fault.removed', name: 'slow-payments' }));
    expect(events.at(-1)).toMatchObject({ type: 'verdict', verdict: 'errored' });
    // the surviving segment was told to stop: it ends aborted (k6's 105), not after its 60 s
    await waitFor('surviving segment stopped', () => new RegExp(`load ${runId} segment \\d/2 ended \\(exit 105\\)`).test(survivor!.out()), 60_000);
  }, 400_000);
});
