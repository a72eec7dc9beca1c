/**
 * Stopping a run mid-fault, on the real stack (shop, fault proxy, Postgres,
 * Redis): the safety lever and an abort request both cancel the timeline
 * (no later fault is applied, neither in the events, the ledger nor the
 * proxy), remove the active fault at once, and the report's window ends at
 * the stop, not at its planned end. The runner also refuses to start a run
 * while the lever is engaged, and errors a run whose stored definition no
 * longer passes the schema.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { clearLever, setLever } from '../../../chaos/index.js';
import { faults, reports, runs } from '../../../db/schema/index.js';
import { enqueueRun, getRunEvents, requestAbort, startWorker, waitForRun, type TRunningWorker } from '../../index.js';
import { engageLever, releaseLever } from '../../runs/engage-lever.js';
import { realDeps } from '../deps.js';
import { executeRun } from '../execute.js';
import type { TRunnerDeps } from '../ports.js';
import { startRunnerFixture, waitFor, type TRunnerFixture } from './helpers.js';

/** Two faults: `first` from 1 s for 20 s, `second` from 8 s; the test stops the run while only `first` is on. */
const twoFaults = (name: string) => `
name: ${name}
description: a long first fault and a later second one; the run is stopped during the first
load:
  scenario: checkout-mix
  rate: 6
  duration: 25s
steady_state:
  slos:
    - name: browse-availability
      route: GET /products
      sli: availability
      objective: 50
faults:
  - name: first
    at: 1s
    duration: 20s
    fault:
      type: latency
      target: orders->payments
      params:
        latencyMs: 100
  - name: second
    at: 8s
    duration: 4s
    fault:
      type: latency
      target: orders->postgres
      params:
        latencyMs: 100
quiescence: 1s
`;

let fx: TRunnerFixture;
let worker: TRunningWorker | undefined;
/** Every fault the runner asked the catalog to apply, by run. */
const applied: { runId: string; target: unknown }[] = [];
const observedDeps: TRunnerDeps = {
  ...realDeps,
  applyFault: (spec, ctx) => {
    applied.push({ runId: ctx.runId ?? '', target: (spec as { target?: unknown }).target });
    return realDeps.applyFault(spec, ctx);
  },
};

beforeAll(async () => {
  fx = await startRunnerFixture();
}, 180_000);

afterAll(async () => {
  await worker?.stop();
  await clearLever(fx.platform.db, { by: 'test' }).catch(() => undefined);
  await fx?.close();
}, 120_000);

type TWindow = { name: string; plannedAtMs: number; plannedDurationMs: number; appliedAt: number | null; removedAt: number | null };

/**
 * Stop a run of `twoFaults` once `first` is applied, then check: run aborted with `reasonRe`,
 * `second` never applied anywhere, `first` removed at the stop (not at its planned end).
 */
async function stopDuringFirstFault(name: string, stop: (runId: string) => Promise<void>, reasonRe: RegExp): Promise<void> {
  const { runId } = await enqueueRun(fx.platform, { yaml: twoFaults(name), trigger: 'cli' });
  const seen = await waitFor(
    'first fault applied',
    async () => (await getRunEvents(fx.platform, runId)).find((e) => e.type === 'fault.applied' || e.type === 'verdict'),
    // the load registers its users first: slow on a busy machine
    180_000,
  );
  // a run that ended before its first fault (e.g. the load's setup failed) says why
  expect(seen, JSON.stringify(seen)).toMatchObject({ type: 'fault.applied', name: 'first' });
  const appliedEv = seen as { name: string; plannedAt: number };
  const loadStart = appliedEv.plannedAt - 1000;
  expect((await fx.toxics()).length).toBeGreaterThan(0);

  const stopAt = Date.now();
  await stop(runId);
  const r = await waitForRun(fx.platform, runId, { timeoutMs: 60_000 });
  expect(r.state).toBe('aborted');
  expect(r.reason).toMatch(reasonRe);

  // past the second fault's planned start (8 s), with margin: it must never come
  const secondPlanned = loadStart + 8000;
  await new Promise((res) => setTimeout(res, Math.max(0, secondPlanned + 3000 - Date.now())));
  const events = await getRunEvents(fx.platform, runId);
  expect(events.filter((e) => e.type === 'fault.applied').map((e) => (e as { name: string }).name)).toEqual(['first']);
  expect(applied.filter((a) => a.runId === runId).map((a) => a.target)).toEqual(['orders->payments']);
  const ledger = await fx.platform.db.select().from(faults).where(eq(faults.runId, runId));
  expect(ledger.map((f) => f.target)).toEqual(['orders->payments']);
  expect(await fx.toxics()).toEqual([]);

  // the report's window of `first` ends at the stop, far before its planned end (21 s after load start)
  const [rep] = await fx.platform.db.select().from(reports).where(eq(reports.runId, runId));
  expect(rep, 'an aborted run past the steady state has a report').toBeTruthy();
  const report = JSON.parse(await readFile(path.join(rep!.dir!, 'report.json'), 'utf8')) as { faults: TWindow[] };
  const first = report.faults.find((f) => f.name === 'first')!;
  const second = report.faults.find((f) => f.name === 'second')!;
  expect(first.appliedAt).not.toBeNull();
  expect(first.removedAt).not.toBeNull();
  expect(first.removedAt!).toBeGreaterThanOrEqual(stopAt);
  expect(first.removedAt!).toBeLessThan(loadStart + first.plannedAtMs + first.plannedDurationMs);
  // …and it is the time the removal was reported, not a planned time
  const removedEv = events.find((e) => e.type === 'fault.removed' && (e as { name: string }).name === 'first') as { t: number; error?: string };
  expect(removedEv.error).toBeUndefined();
  expect(removedEv.t).toBeGreaterThanOrEqual(first.removedAt! - 1000);
  expect(second).toMatchObject({ appliedAt: null, removedAt: null });
}

describe('runner: stopping a run', () => {
  it('refuses to leave queued while the safety lever is engaged', async () => {
    const { runId } = await enqueueRun(fx.platform, { yaml: twoFaults('lever-before-start'), trigger: 'cli' });
    await setLever(fx.platform.db, { by: 'ops', reason: 'db failover' });
    try {
      const state = await executeRun(runId, { platform: fx.platform, deps: observedDeps, workerId: 'test' });
      expect(state).toBe('aborted');
      const [r] = await fx.platform.db.select().from(runs).where(eq(runs.id, runId));
      expect(r!.reason).toBe('halted by ops: db failover');
      expect(r!.steadyStateAt).toBeNull();
      expect(applied.filter((a) => a.runId === runId)).toEqual([]);
      expect((await getRunEvents(fx.platform, runId)).at(-1)).toMatchObject({ type: 'verdict', verdict: 'aborted', reason: 'halted by ops: db failover' });
    } finally {
      await clearLever(fx.platform.db, { by: 'ops' });
    }
  }, 60_000);

  it('errors a run whose stored definition no longer passes the schema, naming the field', async () => {
    const { runId } = await enqueueRun(fx.platform, { yaml: twoFaults('bad-definition'), trigger: 'cli' });
    const [row] = await fx.platform.db.select().from(runs).where(eq(runs.id, runId));
    const def = row!.definition as { faults: { at: unknown }[] };
    def.faults[1]!.at = 'later';
    await fx.platform.db.update(runs).set({ definition: def }).where(eq(runs.id, runId));
    const state = await executeRun(runId, { platform: fx.platform, deps: observedDeps, workerId: 'test' });
    expect(state).toBe('errored');
    const [r] = await fx.platform.db.select().from(runs).where(eq(runs.id, runId));
    expect(r!.reason).toMatch(/^invalid stored experiment definition: faults\.1\.at: expected a duration/);
    expect(r!.steadyStateAt).toBeNull();
  }, 60_000);

  it('an abort request mid-fault: the same, with the request reason', async () => {
    worker = await startWorker({
      platform: fx.platform,
      deps: observedDeps,
      heartbeatMs: 500,
      staleAfterMs: 6000,
      sweepEveryMs: 1000,
      busyRetryMs: 500,
      steadyStateWaitMs: 5000,
      log: () => undefined,
    });
    await stopDuringFirstFault('abort-mid-fault', (runId) => requestAbort(fx.platform, runId, 'test says stop'), /^abort requested: test says stop$/);
  }, 300_000);

  it('the safety lever mid-fault: no later fault applied, the active one removed at the halt, the run aborted "halted by"', async () => {
    // the worker of the previous test (one fixture, one worker)
    worker ??= await startWorker({
      platform: fx.platform,
      deps: observedDeps,
      heartbeatMs: 500,
      staleAfterMs: 6000,
      sweepEveryMs: 1000,
      busyRetryMs: 500,
      steadyStateWaitMs: 5000,
      log: () => undefined,
    });
    await stopDuringFirstFault(
      'lever-mid-fault',
      async (runId) => {
        const res = await engageLever(fx.platform, { by: 'test', reason: 'stop everything' });
        expect(res.runs.find((x) => x.id === runId)?.outcome).toBe('abort-sent');
      },
      /^halted by test: stop everything$/,
    );
    // a new run is refused until the lever is released
    await expect(enqueueRun(fx.platform, { yaml: twoFaults('after-halt'), trigger: 'cli' })).rejects.toMatchObject({ code: 'HALTED' });
    await releaseLever(fx.platform, { by: 'test' });
  }, 300_000);
});
