/**
 * Killing the worker process during a run (SIGKILL: no cleanup code runs)
 * leaves no fault behind and the run ends `errored`: another worker's stall
 * sweeper ends the run, and the fault reconciler removes its faults.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { faults } from '../../../db/schema/index.js';
import { enqueueRun, getRun, getRunEvents, startWorker, type TRunningWorker } from '../../index.js';
import { startRunnerFixture, waitFor, type TRunnerFixture } from './helpers.js';

const here = path.dirname(fileURLToPath(import.meta.url));
let fx: TRunnerFixture;
let child: ChildProcess | undefined;
let rescuer: TRunningWorker | undefined;

beforeAll(async () => {
  fx = await startRunnerFixture();
}, 180_000);

afterAll(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  await rescuer?.stop();
  await fx?.close();
}, 120_000);

/** A run that holds a latency fault on orders->payments for most of a minute, so a worker can be lost while it is applied. */
function longFaultExperiment(name: string, what: string): string {
  return `
name: ${name}
description: long latency fault; ${what}
load:
  scenario: checkout-mix
  rate: 5
  duration: 60s
steady_state:
  slos:
    - name: browse-availability
      route: GET /products
      sli: availability
      objective: 50
faults:
  - name: slow-payments
    at: 1s
    duration: 55s
    fault:
      type: latency
      target: orders->payments
      params:
        latencyMs: 300
quiescence: 1s
`;
}

it('a worker killed mid-run leaves no fault behind and its run ends errored', async () => {
  child = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'worker-child.ts')], {
    env: {
      ...process.env,
      FL_DATABASE_URL: fx.dbUrl,
      FL_PREFIX: fx.prefix,
      FL_TOXIPROXY_URL: fx.proxyUrl,
      FL_SUPERVISOR_URL: fx.supervisor.url,
      FL_GATEWAY_URL: fx.supervisor.gatewayUrl,
      FL_SHOP_DATABASE_URL: fx.shopDbUrl,
      FL_REPORT_DIR: fx.reportDir,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += String(d)));
  child.stderr!.on('data', (d) => (out += String(d)));
  await waitFor('child worker ready', () => out.includes('ready'), 60_000);

  const yaml = longFaultExperiment('crash-me', 'the worker dies while it is applied');
  const { runId } = await enqueueRun(fx.platform, { yaml, trigger: 'cli' });
  await waitFor('fault applied by the child worker', async () => (await getRunEvents(fx.platform, runId)).some((e) => e.type === 'fault.applied'), 60_000);
  expect((await fx.toxics()).length).toBeGreaterThan(0);
  expect((await getRun(fx.platform, runId)).state).toBe('running');

  child.kill('SIGKILL');
  await new Promise((r) => child!.once('exit', r));
  // Nothing of the dead worker removed the toxic.
  expect((await fx.toxics()).length).toBeGreaterThan(0);

  // Another worker comes up: its sweeper and reconciler clean up.
  rescuer = await startWorker({ platform: fx.platform, staleAfterMs: 3000, sweepEveryMs: 500, log: () => undefined });
  const ended = await waitFor(
    'run ended',
    async () => {
      const r = await getRun(fx.platform, runId);
      return r.state === 'running' ? undefined : r;
    },
    30_000,
  );
  expect(ended.state).toBe('errored');
  expect(ended.reason).toMatch(/stalled: no heartbeat|stopped during/);
  await waitFor('toxics removed', async () => (await fx.toxics()).length === 0, 20_000);
  const ledger = await fx.platform.db.select().from(faults).where(eq(faults.runId, runId));
  expect(ledger.map((f) => f.status)).toEqual(['removed']);
  // the verdict event follows the state change (the reconciler may remove the toxic in between)
  const events = await waitFor(
    'verdict event',
    async () => {
      const ev = await getRunEvents(fx.platform, runId);
      return ev.at(-1)?.type === 'verdict' ? ev : undefined;
    },
    10_000,
  );
  expect(events.at(-1)).toMatchObject({ type: 'verdict', verdict: 'errored' });
}, 180_000);

it('a worker stopped gracefully mid-run (SIGTERM path) ends the run errored with its faults removed before stop() resolves', async () => {
  await rescuer?.stop();
  rescuer = undefined;
  const w = await startWorker({ platform: fx.platform, log: () => undefined });
  const yaml = longFaultExperiment('stop-me', 'the worker is stopped while it is applied');
  const { runId } = await enqueueRun(fx.platform, { yaml, trigger: 'cli' });
  await waitFor('fault applied', async () => (await getRunEvents(fx.platform, runId)).some((e) => e.type === 'fault.applied'), 60_000);
  await w.stop();
  expect(await fx.toxics()).toEqual([]);
  const r = await getRun(fx.platform, runId);
  expect(r.state).toBe('errored');
  expect(r.reason).toBe('worker shutting down');
}, 120_000);
