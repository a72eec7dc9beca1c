/**
 * Faults never outlive their run: the process that applied a latency fault
 * and a pause fault is SIGKILLed; a reconciler started afterwards removes
 * both within 10 s and the edge and the instance are healthy again. Also the
 * reconciler's other reasons (run ended, expiry) on the same real shop.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runs } from '../../db/schema/runs.js';
import { eq } from 'drizzle-orm';
import { applyFault, haltAll, reconcileFaults, startReconciler } from '../index.js';
import { getFault, openFaults } from '../safety/ledger.js';
import { ToxiproxyApi } from '../faults/toxiproxy-api.js';
import { median, pidAlive, startShop, statusOf, timedGet, waitFor, type TShopFixture } from './helpers.js';

const here = path.dirname(fileURLToPath(import.meta.url));
let shop: TShopFixture;

beforeAll(async () => {
  shop = await startShop({ withProxy: true, instances: { payments: 1 } });
});

afterAll(async () => {
  await shop?.close();
});

/** The proxy of `orders->payments` (instance 0), where the orders service dials payments. */
function edgeListen(): string {
  const e = shop.sup.edges().find((x) => x.name === 'orders->payments');
  if (!e || !e.proxies[0]) throw new Error('no orders->payments proxy');
  return e.proxies[0].listen;
}

async function insertRun(id: string, state: 'running' | 'aborted'): Promise<void> {
  await shop.ctx.db.insert(runs).values({ id, experimentName: 'crash-test', target: 'shop', state, definition: {} });
}

/** What workers/ supplies in production (workers/runs/active-runs.ts): the run's row is not terminal. */
async function isRunActive(id: string): Promise<boolean> {
  const [r] = await shop.ctx.db.select({ state: runs.state }).from(runs).where(eq(runs.id, id));
  return !!r && r.state === 'running';
}

/**
 * A health GET straight to payments-0 and one through the edge's proxy, one
 * after the other: the proxied one's extra time is what the edge adds, with
 * whatever a busy machine adds to both taken out.
 */
async function edgeAddedMs(): Promise<{ status: number; added: number }> {
  const direct = await timedGet(`${shop.sup.instance('payments-0').url}/health`, 10_000);
  const via = await timedGet(`http://${edgeListen()}/health`, 10_000);
  return { status: direct.status === 200 ? via.status : direct.status, added: via.ms - direct.ms };
}

async function toxicCount(): Promise<number> {
  const list = await new ToxiproxyApi(shop.ctx.toxiproxyUrl).list();
  return [...list.values()].reduce((n, p) => n + p.toxics.length, 0);
}

describe('crash cleanup and halt on the full shop', () => {
  it('removes the latency and pause faults of a SIGKILLed applier within 10 s', async () => {
    const runId = 'run-crash';
    // The run still looks active in the database (its worker died with it):
    // only the dead holder tells the reconciler the faults are orphaned.
    await insertRun(runId, 'running');
    const healthUrl = `http://${edgeListen()}/health`;
    expect(await statusOf(healthUrl, 10_000)).toBe(200);

    const child = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'fixtures', 'apply-and-hang.ts')], {
      env: {
        ...process.env,
        TOXIPROXY_URL: shop.ctx.toxiproxyUrl,
        SUPERVISOR_URL: shop.ctx.supervisorUrl,
        DATABASE_URL: shop.ledgerUrl,
        RUN_ID: runId,
        FAULTS: JSON.stringify([
          { type: 'latency', target: 'orders->payments', params: { latencyMs: 800 } },
          { type: 'pause', target: 'payments-0' },
        ]),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (err += c));
    const { ids } = await waitFor(
      `child to apply its faults (stderr: ${err})`,
      () => (out.includes('\n') ? (JSON.parse(out.split('\n')[0]) as { ids: string[] }) : null),
      30_000,
    );
    expect(ids).toHaveLength(2);

    // Both faults are in force.
    expect(shop.sup.instance('payments-0').state).toBe('paused');
    expect(await toxicCount()).toBe(1);
    const slow = await timedGet(`http://${edgeListen()}/health`, 700);
    expect(slow.status).toBe(0);

    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(pidAlive(child.pid)).toBe(false);

    const t0 = performance.now();
    const removed: string[] = [];
    const rec = startReconciler(shop.ctx, { isRunActive, intervalMs: 1000, onResult: (r) => removed.push(...r.removed.map((x) => `${x.type}:${x.reason}`)) });
    try {
      await waitFor(
        'both faults removed and the edge and instance healthy',
        async () => {
          if ((await openFaults(shop.ctx.db)).length) return false;
          if (shop.sup.instance('payments-0').state !== 'running') return false;
          if ((await toxicCount()) !== 0) return false;
          // the 800 ms latency is gone (a slow pair on a busy machine is simply polled again)
          const r = await edgeAddedMs();
          return r.status === 200 && r.added < 800 / 2;
        },
        10_000,
        100,
      );
    } finally {
      await rec.stop();
    }
    console.log(`crash cleanup: both faults gone and healthy ${Math.round(performance.now() - t0)} ms after the reconciler started`);
    expect(removed.sort()).toEqual(['latency:holder-gone', 'pause:holder-gone']);
    for (const id of ids) expect((await getFault(shop.ctx.db, id))?.status).toBe('removed');
    expect(await statusOf(`${shop.sup.instance('payments-0').url}/health`, 10_000)).toBe(200);
  });

  it('removes a live process fault once its run ended, and leaves an active run alone', async () => {
    await insertRun('run-live', 'running');
    const f = await applyFault({ type: 'latency', target: 'orders->payments', params: { latencyMs: 50 } }, { ...shop.ctx, runId: 'run-live' });
    let r = await reconcileFaults(shop.ctx, { isRunActive });
    expect(r.removed).toEqual([]);
    expect(await toxicCount()).toBe(1);
    await shop.ctx.db.update(runs).set({ state: 'aborted' }).where(eq(runs.id, 'run-live'));
    r = await reconcileFaults(shop.ctx, { isRunActive });
    expect(r.removed.map((x) => [x.id, x.reason])).toEqual([[f.id, 'run-ended']]);
    expect(await toxicCount()).toBe(0);
  });

  it('removes a detached fault when its expiry passes', async () => {
    // the clock is the reconciler's `now`, not the wall: a busy machine must not let the expiry pass before the first look
    const expiresAt = new Date(Date.now() + 60_000);
    const f = await applyFault({ type: 'edge_down', target: 'orders->payments' }, { ...shop.ctx, detached: true, expiresAt });
    expect(await statusOf(`http://${edgeListen()}/health`, 1000)).toBe(0);
    expect((await reconcileFaults(shop.ctx, { isRunActive, now: new Date(expiresAt.getTime() - 1000) })).removed).toEqual([]);
    const r = await reconcileFaults(shop.ctx, { isRunActive, now: new Date(expiresAt.getTime() + 1) });
    expect(r.removed.map((x) => [x.id, x.reason])).toEqual([[f.id, 'expired']]);
    expect(await statusOf(`http://${edgeListen()}/health`, 10_000)).toBe(200);
  });

  it('halt removes network, process and HTTP faults across proxy and supervisor in one call', async () => {
    const healthy = async (id: string) => shop.sup.instance(id).state === 'running' && (await statusOf(`${shop.sup.instance(id).url}/health`, 1000)) === 200;
    await waitFor('shop healthy', async () => (await healthy('payments-0')) && (await healthy('catalog-0')), 30_000, 100);
    const c = { ...shop.ctx, runId: 'run-halt' };
    await applyFault({ type: 'latency', target: 'orders->payments', params: { latencyMs: 700 } }, c);
    await applyFault({ type: 'edge_down', target: 'orders->postgres' }, c);
    await applyFault({ type: 'pause', target: 'payments-0' }, c);
    await applyFault({ type: 'kill', target: 'catalog-0', params: { holdMs: 120_000 } }, c);
    await applyFault({ type: 'http_abort', target: 'orders', params: { percentage: 100 } }, c);
    await waitFor('catalog-0 held', () => shop.sup.instance('catalog-0').state === 'stopped');

    const r = await haltAll(shop.ctx);
    console.log(`halt (5 faults: latency, edge down, pause, held kill, HTTP abort; proxy + supervisor): ${r.durationMs} ms`);
    expect(r.errors).toEqual([]);
    expect(r.removed).toHaveLength(5);
    expect(r.toxics.length).toBeGreaterThanOrEqual(1);
    expect(r.proxiesEnabled).toEqual(['orders->postgres']);
    expect(r.instancesResumed).toEqual(['payments-0']);
    expect(r.instancesStarted).toEqual(['catalog-0']);
    expect(r.httpFaults).toHaveLength(1);
    expect(await openFaults(shop.ctx.db)).toEqual([]);
    expect(await toxicCount()).toBe(0);
    // the 700 ms latency is gone: paired with a direct GET, the edge adds well under half of it
    const pairs = [await edgeAddedMs(), await edgeAddedMs(), await edgeAddedMs()];
    expect(pairs.map((p) => p.status)).toEqual([200, 200, 200]);
    expect(median(pairs.map((p) => p.added))).toBeLessThan(700 / 2);
    await waitFor('catalog-0 back', () => healthy('catalog-0'), 30_000, 100);
    expect(shop.sup.httpFaults()).toEqual([]);
  });
});
