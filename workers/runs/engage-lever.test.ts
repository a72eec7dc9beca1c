/**
 * The safety lever on the real stack (shop under its supervisor, fault
 * proxy, Postgres, Redis, a worker): a run under load with a long latency
 * fault and a paused instance is halted mid-fault. Shown: every fault gone
 * (proxy without toxics, instance resumed, ledger closed at the halt), no
 * later fault applied, the run `aborted` with "halted by …", its report's
 * window ending at the halt; new runs, scheduled runs and hand-applied
 * faults refused while engaged, a new run accepted after release; another
 * stack's proxy untouched. Prints the click-to-all-faults-gone figure.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { applyFault, clearLever, leverState, startFaultProxy, type TFaultProxy } from '../../chaos/index.js';
import { faults, isTerminal, reports, runs, scheduleFires, schedules } from '../../db/schema/index.js';
import { startRunnerFixture, waitFor, type TRunnerFixture } from '../runner/test/helpers.js';
import { startWorker, type TRunningWorker } from '../main.js';
import { fireSchedule } from '../schedules/fire.js';
import { platformRunStarter } from '../schedules/platform.js';
import { enqueueRun } from './enqueue-run.js';
import { engageLever, leverStatus, releaseLever } from './engage-lever.js';
import { getRunEvents } from './query-runs.js';
import { requestAbort, waitForRun } from './subscribe-run.js';

/**
 * `slow` (latency on orders->payments) from 1 s for 40 s and `frozen` (payments-0 paused) from 2 s
 * for 40 s are both on when the lever is pulled; `later` (orders->postgres, at 12 s) must never come.
 */
const experiment = (name: string, rate = 25) => `
name: ${name}
description: two long faults under checkout load, and a later one; the safety lever is pulled during the first two
load:
  scenario: checkout-mix
  rate: ${rate}
  duration: 45s
steady_state:
  slos:
    - name: browse-availability
      route: GET /products
      sli: availability
      objective: 50
faults:
  - name: slow
    at: 1s
    duration: 40s
    fault:
      type: latency
      target: orders->payments
      params:
        latencyMs: 300
  - name: frozen
    at: 2s
    duration: 40s
    fault:
      type: pause
      target: payments-0
  - name: later
    at: 12s
    duration: 5s
    fault:
      type: latency
      target: orders->postgres
      params:
        latencyMs: 100
quiescence: 1s
`;

const REASON = 'payments on fire';
type TWindow = { name: string; plannedAtMs: number; plannedDurationMs: number; appliedAt: number | null; removedAt: number | null };

let fx: TRunnerFixture;
let worker: TRunningWorker | undefined;
let other: TFaultProxy | undefined;

beforeAll(async () => {
  fx = await startRunnerFixture({ startTimeoutMs: 240_000 });
  worker = await startWorker({
    platform: fx.platform,
    heartbeatMs: 500,
    staleAfterMs: 6000,
    sweepEveryMs: 1000,
    busyRetryMs: 500,
    steadyStateWaitMs: 15_000,
    log: () => undefined,
  });
}, 300_000);

afterAll(async () => {
  await worker?.stop();
  await other?.close().catch(() => undefined);
  if (fx) await clearLever(fx.platform.db, { by: 'test cleanup' }).catch(() => undefined);
  await fx?.close();
}, 120_000);

/** Every instance of the shop is running again (none paused or held). */
function allInstancesRunning(): boolean {
  return fx.supervisor.instances().every((i) => i.state === 'running');
}

describe('safety lever (issue 13)', () => {
  it('halts a run mid-fault under load: faults gone at once, nothing applied later, run aborted "halted by", starts refused until released', async () => {
    // Another stack's proxy on the same machine, with a toxic of its own: the halt must not touch it.
    other = await startFaultProxy({ host: '127.0.0.1', port: 0 });
    await fetch(`${other.url}/proxies`, { method: 'POST', body: JSON.stringify({ name: 'elsewhere', listen: '127.0.0.1:0', upstream: '127.0.0.1:9' }) });
    await fetch(`${other.url}/proxies/elsewhere/toxics`, {
      method: 'POST',
      body: JSON.stringify({ name: 'theirs', type: 'latency', attributes: { latency: 50 } }),
    });

    const { runId } = await enqueueRun(fx.platform, { yaml: experiment('lever-under-load'), trigger: 'cli' });
    const applied = async () =>
      (await getRunEvents(fx.platform, runId)).filter((e) => e.type === 'fault.applied') as unknown as { name: string; plannedAt: number }[];
    const both = await waitFor(
      'slow and frozen applied',
      async () => {
        const a = await applied();
        if (a.length >= 2) return a;
        const [row] = await fx.platform.db.select({ state: runs.state, reason: runs.reason }).from(runs).where(eq(runs.id, runId));
        if (row && isTerminal(row.state)) {
          const evs = (await getRunEvents(fx.platform, runId)).filter((e) => e.type !== 'load.second');
          throw new Error(`run ended ${row.state} before both faults were on: ${row.reason}\n${evs.map((e) => JSON.stringify(e).slice(0, 300)).join('\n')}`);
        }
        return undefined;
      },
      240_000,
      100,
    );
    expect(both.map((e) => e.name)).toEqual(['slow', 'frozen']);
    const loadStart = both[0]!.plannedAt - 1000;
    expect((await fx.toxics()).length).toBeGreaterThan(0);
    expect(fx.supervisor.instances().find((i) => i.id === 'payments-0')?.state).toBe('paused');
    // a second of load with both faults on, so the halt happens under load, not at its edge
    await new Promise((r) => setTimeout(r, 1000));

    // ── pull the lever; measure from the call to "proxy clean and every instance running" ──
    const clickAt = Date.now();
    const t0 = performance.now();
    const clean = (async () => {
      for (;;) {
        if ((await fx.toxics()).length === 0 && allInstancesRunning()) return performance.now() - t0;
        await new Promise((r) => setTimeout(r, 2));
      }
    })();
    const res = await engageLever(fx.platform, { by: 'test-ops', reason: REASON });
    const returnedMs = performance.now() - t0;
    const goneMs = await Promise.race([
      clean,
      new Promise<number>((_, rej) => setTimeout(() => rej(new Error('faults still present 30 s after the halt')), 30_000)),
    ]);
    const engageEnd = Date.now();
    console.log(
      `safety lever under load (${25} req/s checkout-mix, latency + paused instance): all faults gone ${goneMs.toFixed(1)} ms after engage ` +
        `(engage returned in ${returnedMs.toFixed(1)} ms; haltAll ${res.halt.durationMs} ms; ${res.halt.toxics.length} toxics, ${res.halt.instancesResumed.length} instance(s) resumed, ${res.runs.length} run(s) told)`,
    );

    // the halt's own effects, observed when engageLever returns (not later by the runner)
    expect(res.alreadyEngaged).toBe(false);
    expect(res.lever).toMatchObject({ engaged: true, by: 'test-ops', reason: REASON });
    expect(res.halt.errors).toEqual([]);
    expect(res.halt.instancesResumed).toEqual(['payments-0']);
    expect(res.halt.toxics.map((t) => t.proxy)).toEqual(expect.arrayContaining([expect.stringMatching(/^orders->payments/)]));
    expect(res.runs).toEqual([expect.objectContaining({ id: runId, outcome: 'abort-sent' })]);
    const ledger = await fx.platform.db.select().from(faults).where(eq(faults.runId, runId));
    expect(ledger.map((f) => f.target).sort()).toEqual(['orders->payments', 'payments-0']);
    for (const f of ledger) {
      expect(f.status).toBe('removed');
      expect(f.removedAt!.getTime()).toBeGreaterThanOrEqual(clickAt);
      expect(f.removedAt!.getTime()).toBeLessThanOrEqual(engageEnd);
    }
    // the other stack's proxy kept its toxic
    const theirs = (await (await fetch(`${other.url}/proxies/elsewhere/toxics`)).json()) as { name: string }[];
    expect(theirs.map((t) => t.name)).toEqual(['theirs']);

    // ── the run: aborted with the lever's reason ──
    const r = await waitForRun(fx.platform, runId, { timeoutMs: 90_000 });
    expect(r.state).toBe('aborted');
    // exact text is the runner's (helper C: a lever abort keeps its reason as is)
    expect(r.reason).toBe(`halted by test-ops: ${REASON}`);

    // ── nothing applied afterwards: wait past `later`'s planned start (12 s) with margin ──
    await new Promise((res2) => setTimeout(res2, Math.max(0, loadStart + 12_000 + 3000 - Date.now())));
    expect((await applied()).map((e) => e.name)).toEqual(['slow', 'frozen']);
    expect((await fx.platform.db.select().from(faults).where(eq(faults.runId, runId))).length).toBe(2);
    expect(await fx.toxics()).toEqual([]);
    expect(allInstancesRunning()).toBe(true);

    // ── the report's windows end at the halt, not at their planned end (41 s / 42 s after load start) ──
    const [rep] = await fx.platform.db.select().from(reports).where(eq(reports.runId, runId));
    expect(rep, 'a run aborted mid-load has a report').toBeTruthy();
    const report = JSON.parse(await readFile(path.join(rep!.dir!, 'report.json'), 'utf8')) as { faults: TWindow[] };
    for (const name of ['slow', 'frozen']) {
      const w = report.faults.find((f) => f.name === name)!;
      expect(w.removedAt, name).not.toBeNull();
      expect(w.removedAt!, name).toBeGreaterThanOrEqual(clickAt);
      expect(w.removedAt!, name).toBeLessThan(loadStart + w.plannedAtMs + w.plannedDurationMs - 20_000);
    }
    expect(report.faults.find((f) => f.name === 'later')).toMatchObject({ appliedAt: null, removedAt: null });

    // ── while engaged: a new run, a scheduled run and a hand-applied fault are refused ──
    const runsBefore = (await fx.platform.db.select({ id: runs.id }).from(runs)).length;
    await expect(enqueueRun(fx.platform, { yaml: experiment('refused-while-halted'), trigger: 'console' })).rejects.toMatchObject({
      code: 'HALTED',
      httpStatus: 423,
      exitCode: 3,
      message: expect.stringContaining(`by test-ops`),
    });
    await fx.platform.db
      .insert(schedules)
      .values({ id: 'sch_lever', name: 'nightly', kind: 'experiment', ref: 'lever-under-load', cron: '0 3 * * *', createdBy: 'test' });
    const fire = await fireSchedule({ db: fx.platform.db, starter: platformRunStarter(fx.platform), scheduleId: 'sch_lever' });
    expect(fire.outcome).not.toBe('started');
    const [fired] = await fx.platform.db.select().from(scheduleFires).where(eq(scheduleFires.scheduleId, 'sch_lever'));
    expect(fired!.reason).toContain('safety lever is engaged');
    expect(fired!.runIds).toEqual([]);
    const ctx = { toxiproxyUrl: fx.proxyUrl, supervisorUrl: fx.supervisor.url, db: fx.platform.db };
    await expect(applyFault({ type: 'latency', target: 'orders->payments', params: { latencyMs: 100 } }, { ...ctx, detached: true })).rejects.toMatchObject({
      code: 'HALTED',
    });
    expect((await fx.platform.db.select({ id: runs.id }).from(runs)).length).toBe(runsBefore);
    expect(await fx.toxics()).toEqual([]);

    // the state is in Postgres: what another process would read
    expect((await leverStatus(fx.platform)).lever).toMatchObject({ engaged: true, by: 'test-ops', reason: REASON });

    // ── release: the next run is accepted and leaves `queued` ──
    const rel = await releaseLever(fx.platform, { by: 'test-ops', reason: 'fixed' });
    expect(rel).toMatchObject({ released: true, lever: { engaged: false } });
    expect(await leverState(fx.platform.db)).toEqual({ engaged: false });
    const next = await enqueueRun(fx.platform, { yaml: experiment('accepted-after-release', 5), trigger: 'console' });
    await waitFor(
      'the new run started',
      async () => {
        const [row] = await fx.platform.db.select({ state: runs.state }).from(runs).where(eq(runs.id, next.runId));
        return row && row.state !== 'queued' ? row.state : undefined;
      },
      60_000,
    );
    await requestAbort(fx.platform, next.runId, 'test done');
    const done = await waitForRun(fx.platform, next.runId, { timeoutMs: 90_000 });
    expect(done.state).toBe('aborted');
    expect(done.reason).not.toMatch(/halted/);
    expect((await leverStatus(fx.platform)).history.map((h) => [h.action, h.by])).toEqual([
      ['released', 'test-ops'],
      ['engaged', 'test-ops'],
    ]);
  }, 400_000);

  it('ends a queued run at once and tells nobody else; engaging again keeps the first engagement', async () => {
    // on its own, whatever the first test left: the lever released, and no worker may take the run
    await clearLever(fx.platform.db, { by: 'test setup' });
    await worker?.stop();
    worker = undefined;
    const { runId } = await enqueueRun(fx.platform, { yaml: experiment('queued-when-halted', 5), trigger: 'api' });
    const a = await engageLever(fx.platform, { by: 'first', reason: 'maintenance' });
    expect(a.runs).toEqual([expect.objectContaining({ id: runId, state: 'queued', outcome: 'ended' })]);
    const [row] = await fx.platform.db.select().from(runs).where(eq(runs.id, runId));
    expect(row).toMatchObject({ state: 'aborted', reason: 'halted by first: maintenance' });
    expect((await getRunEvents(fx.platform, runId)).at(-1)).toMatchObject({ type: 'verdict', verdict: 'aborted', reason: 'halted by first: maintenance' });
    const b = await engageLever(fx.platform, { by: 'second', reason: 'me too' });
    expect(b).toMatchObject({ alreadyEngaged: true, lever: { by: 'first', reason: 'maintenance' }, runs: [] });
    await expect(engageLever(fx.platform, { by: 'x', reason: '' })).rejects.toMatchObject({
      code: 'VALIDATION',
      issues: [expect.objectContaining({ path: 'reason' })],
    });
    await releaseLever(fx.platform, { by: 'first' });
  }, 60_000);
});
