/**
 * Process and HTTP faults against the real shop under the real supervisor:
 * each fault's effect is observed on the instances themselves, and is gone
 * after remove.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../core/errors.js';
import { faults as faultsTable } from '../../db/schema/faults.js';
import { applyFault, haltAll } from '../index.js';
import { getFault, insertFault, saveUndo } from '../safety/ledger.js';
import { removeFault } from '../faults/index.js';
import { SupervisorClient } from '../faults/supervisor-api.js';
import { pidAlive, startShop, statusOf, timedGet, waitFor, median, type TShopFixture } from './helpers.js';

let shop: TShopFixture;

beforeAll(async () => {
  shop = await startShop({ instances: { payments: 2, catalog: 1 } });
});

afterAll(async () => {
  await shop?.close();
});

const inst = (id: string) => shop.sup.instance(id);
const healthy = async (id: string) => inst(id).state === 'running' && (await statusOf(`${inst(id).url}/health`, 1000)) === 200;

async function expectRejected(p: Promise<unknown>, code: string, path: string): Promise<AppError> {
  const e = await p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(AppError);
  expect((e as AppError).code).toBe(code);
  expect((e as AppError).issues.map((i) => i.path)).toContain(path);
  return e as AppError;
}

describe('process faults', () => {
  it('pause stops an instance answering; remove resumes it', async () => {
    expect(await healthy('payments-0')).toBe(true);
    const f = await applyFault({ type: 'pause', target: 'payments-0' }, shop.ctx);
    expect(inst('payments-0').state).toBe('paused');
    expect(await statusOf(`${inst('payments-0').url}/health`, 800)).toBe(0);
    // The other instance of the service is untouched.
    expect(await statusOf(`${inst('payments-1').url}/health`, 10_000)).toBe(200);
    expect((await getFault(shop.ctx.db, f.id))?.status).toBe('active');
    await f.remove();
    expect(await statusOf(`${inst('payments-0').url}/health`, 10_000)).toBe(200);
    const row = await getFault(shop.ctx.db, f.id);
    expect(row?.status).toBe('removed');
    expect(row?.removedAt).toBeInstanceOf(Date);
  });

  it('kill with a hold SIGKILLs the process and keeps it down; remove starts it', async () => {
    const before = inst('payments-1');
    const f = await applyFault({ type: 'kill', target: 'payments-1', params: { holdMs: 120_000 } }, shop.ctx);
    await waitFor('old pid gone', () => !pidAlive(before.pid), 5000);
    expect(inst('payments-1').state).toBe('stopped');
    expect(await statusOf(`${before.url}/health`, 500)).toBe(0);
    await f.remove();
    await waitFor('payments-1 back', () => healthy('payments-1'), 30_000, 100);
    expect(inst('payments-1').pid).not.toBe(before.pid);
  });

  it('kill without a hold is restarted by the supervisor with a new pid', async () => {
    const before = inst('catalog-0');
    const f = await applyFault({ type: 'kill', target: 'catalog-0' }, shop.ctx);
    await waitFor('catalog-0 restarted', async () => inst('catalog-0').pid !== before.pid && (await healthy('catalog-0')), 30_000, 100);
    expect(pidAlive(before.pid)).toBe(false);
    await f.remove();
    expect((await getFault(shop.ctx.db, f.id))?.status).toBe('removed');
  });

  it('kill_percentage 50 of two payments instances kills exactly one', async () => {
    await waitFor('payments healthy', async () => (await healthy('payments-0')) && (await healthy('payments-1')), 30_000, 100);
    const f = await applyFault({ type: 'kill_percentage', target: 'payments', params: { percentage: 50, holdMs: 120_000 } }, shop.ctx);
    const stopped = await waitFor('one stopped', () => {
      const s = shop.sup.instances().filter((i) => i.service === 'payments' && i.state === 'stopped');
      return s.length ? s : null;
    });
    expect(stopped).toHaveLength(1);
    expect(shop.sup.instances().filter((i) => i.service === 'payments' && i.state === 'running')).toHaveLength(1);
    await f.remove();
    await waitFor('both payments back', async () => (await healthy('payments-0')) && (await healthy('payments-1')), 30_000, 100);
  });

  it('restart gives the instance a new process', async () => {
    const before = inst('payments-0');
    const f = await applyFault({ type: 'restart', target: 'payments-0' }, shop.ctx);
    await waitFor('payments-0 restarted', async () => inst('payments-0').pid !== before.pid && (await healthy('payments-0')), 30_000, 100);
    await f.remove();
  });
});

describe('HTTP faults', () => {
  const productsUrl = () => `${inst('catalog-0').url}/products`;

  it('abort answers the status for the route, and only that route; remove restores it', async () => {
    await waitFor('catalog healthy', () => healthy('catalog-0'), 30_000, 100);
    expect(await statusOf(productsUrl(), 10_000)).toBe(200);
    const f = await applyFault({ type: 'http_abort', target: 'catalog', params: { route: '/products', status: 502 } }, shop.ctx);
    const statuses = await Promise.all(Array.from({ length: 10 }, () => statusOf(productsUrl(), 10_000)));
    expect(statuses.every((s) => s === 502)).toBe(true);
    // Control paths stay reachable so the platform can observe and heal.
    expect(await statusOf(`${inst('catalog-0').url}/health`, 10_000)).toBe(200);
    await f.remove();
    expect(await statusOf(productsUrl(), 10_000)).toBe(200);
    expect(shop.sup.httpFaults()).toHaveLength(0);
  });

  it('abort at 50 % hits about half of the requests', async () => {
    const f = await applyFault({ type: 'http_abort', target: 'catalog', params: { route: '/products', percentage: 50 } }, shop.ctx);
    const statuses: number[] = [];
    for (let i = 0; i < 200; i++) statuses.push(await statusOf(productsUrl(), 10_000));
    await f.remove();
    const aborted = statuses.filter((s) => s === 503).length;
    expect(statuses.filter((s) => s !== 503 && s !== 200)).toEqual([]);
    // Binomial(200, 0.5): mean 100, sd ~7; ±35 is five sd.
    expect(aborted).toBeGreaterThan(65);
    expect(aborted).toBeLessThan(135);
  });

  it('delay adds the configured time to the route; remove takes it away', async () => {
    // The baseline is measured exactly as the delayed requests are: one at a time
    // (measured concurrently, it was inflated by queueing and hid most of the delay).
    const before: number[] = [];
    for (let i = 0; i < 5; i++) before.push((await timedGet(productsUrl())).ms);
    const base = median(before);
    const f = await applyFault({ type: 'http_delay', target: 'catalog', params: { route: '/products', delayMs: 300 } }, shop.ctx);
    const slow: number[] = [];
    for (let i = 0; i < 5; i++) slow.push((await timedGet(productsUrl())).ms);
    await f.remove();
    const after: number[] = [];
    for (let i = 0; i < 5; i++) after.push((await timedGet(productsUrl())).ms);
    // a delay only ever adds: every delayed request took at least the delay (exact on any machine)
    expect(Math.min(...slow)).toBeGreaterThanOrEqual(300);
    // and it is the delay, not a slow route: well above the baseline (half the delay is the
    // margin a busy machine may take from one median and not the other), and not many times it
    expect(median(slow) - base).toBeGreaterThan(300 / 2);
    expect(median(slow) - base).toBeLessThan(300 + 1000);
    // removed: requests are faster than the delay's floor again; one fast one proves it,
    // so a load spike during some of them cannot fail this
    expect(Math.min(...after)).toBeLessThan(base + 300 / 2);
  });
});

describe('recovery from the ledger alone', () => {
  it('finds an HTTP fault by its body when the applier died before recording its id', async () => {
    const body = { service: 'catalog', route: '/products', kind: 'abort' as const, status: 504, percentage: 100 };
    // The applier recorded its intent, POSTed, and died before saving the id.
    await insertFault(shop.ctx.db, { id: 'flt_lostid', type: 'http_abort', target: 'catalog', params: body });
    await saveUndo(shop.ctx.db, 'flt_lostid', { httpFaults: [{ body }] });
    await new SupervisorClient({ url: shop.ctx.supervisorUrl }).addHttpFault(body);
    await waitFor('abort in force', async () => (await statusOf(`${inst('catalog-0').url}/products`, 3000)) === 504);
    const r = await removeFault('flt_lostid', shop.ctx);
    expect(r.httpFaultsRemoved).toHaveLength(1);
    expect(shop.sup.httpFaults()).toEqual([]);
    expect(await statusOf(`${inst('catalog-0').url}/products`, 10_000)).toBe(200);
    expect((await getFault(shop.ctx.db, 'flt_lostid'))?.status).toBe('removed');
  });
});

describe('validation and allowlist, before anything is applied', () => {
  it('refuses unknown instances and services naming target, writing nothing', async () => {
    const before = (await shop.ctx.db.select().from(faultsTable)).length;
    await expectRejected(applyFault({ type: 'pause', target: 'payments-7' }, shop.ctx), 'VALIDATION', 'target');
    await expectRejected(applyFault({ type: 'kill_percentage', target: 'billing', params: { percentage: 10 } }, shop.ctx), 'VALIDATION', 'target');
    await expectRejected(applyFault({ type: 'http_delay', target: 'billing', params: { delayMs: 10 } }, shop.ctx), 'VALIDATION', 'target');
    await expectRejected(applyFault({ type: 'kill_percentage', target: 'payments', params: { percentage: 101 } }, shop.ctx), 'VALIDATION', 'params.percentage');
    expect((await shop.ctx.db.select().from(faultsTable)).length).toBe(before);
    expect(shop.sup.instances().every((i) => i.state === 'running')).toBe(true);
  });

  it('refuses a supervisor outside the allowlist with TARGET_NOT_ALLOWED, touching nothing', async () => {
    // The supervisor listens on 127.0.0.1; an allowlist of only `localhost` excludes it.
    const e = await expectRejected(
      applyFault({ type: 'pause', target: 'payments-0' }, { ...shop.ctx, allowedHosts: ['localhost'] }),
      'TARGET_NOT_ALLOWED',
      'supervisorUrl',
    );
    expect(e.message).toContain('outside the allowed fault targets');
    expect(inst('payments-0').state).toBe('running');
  });
});

describe('halt', () => {
  it('removes pause, held kill and HTTP faults at once and reports them', async () => {
    await waitFor('all healthy', async () => (await healthy('payments-0')) && (await healthy('payments-1')) && (await healthy('catalog-0')), 30_000, 100);
    const a = await applyFault({ type: 'pause', target: 'payments-0' }, { ...shop.ctx, runId: 'run-halt' });
    const b = await applyFault({ type: 'kill', target: 'payments-1', params: { holdMs: 120_000 } }, { ...shop.ctx, runId: 'run-halt' });
    const c = await applyFault({ type: 'http_abort', target: 'catalog', params: { route: '/products' } }, { ...shop.ctx, runId: 'run-halt' });
    await waitFor('payments-1 stopped', () => inst('payments-1').state === 'stopped');
    const r = await haltAll(shop.ctx);
    console.log(`halt (pause + held kill + HTTP abort, no proxy reachable): ${r.durationMs} ms`);
    expect(r.removed.map((x) => x.id).sort()).toEqual([a.id, b.id, c.id].sort());
    expect(r.instancesResumed).toEqual(['payments-0']);
    expect(r.instancesStarted).toEqual(['payments-1']);
    expect(r.httpFaults).toHaveLength(1);
    // The proxy is not running in this suite: reported, and it did not stop the rest.
    expect(r.errors.map((e) => e.component)).toEqual(['proxy']);
    expect(await statusOf(`${inst('payments-0').url}/health`, 10_000)).toBe(200);
    expect(await statusOf(productsUrl(), 10_000)).toBe(200);
    await waitFor('payments-1 back', () => healthy('payments-1'), 30_000, 100);
    for (const f of [a, b, c]) expect((await getFault(shop.ctx.db, f.id))?.removedAt).toBeInstanceOf(Date);
  });
  it('a halt beside the run removing the same pause: both succeed, the instance is resumed once', async () => {
    // The lever's halt and the run's own removal run side by side (neither waits for the other):
    // whichever resumes second finds the instance running, which is that fault undone, not an error.
    for (let i = 0; i < 5; i++) {
      await waitFor('payments-0 running', () => inst('payments-0').state === 'running', 30_000, 50);
      const f = await applyFault({ type: 'pause', target: 'payments-0' }, { ...shop.ctx, runId: `run-race-${i}` });
      const [halt, own] = await Promise.allSettled([haltAll(shop.ctx), f.remove()]);
      expect(own).toEqual({ status: 'fulfilled', value: undefined });
      expect(halt.status).toBe('fulfilled');
      const r = (halt as PromiseFulfilledResult<Awaited<ReturnType<typeof haltAll>>>).value;
      expect(r.errors.map((e) => e.component)).toEqual(['proxy']);
      expect(inst('payments-0').state).toBe('running');
      expect((await getFault(shop.ctx.db, f.id))?.removedAt).toBeInstanceOf(Date);
    }
  });
  const productsUrl = () => `${inst('catalog-0').url}/products`;
});
