import { afterEach, describe, expect, it } from 'vitest';
import { runEngine } from '../engine/engine.js';
import { runLoad } from '../index.js';
import { parseScenario, type TScenario } from '../scenario.js';
import type { THistoryEvent, TLoadSecond } from '../types.js';
import { startFakeShop, type TFakeShop } from './fake-shop.js';

let shop: TFakeShop | undefined;
afterEach(async () => {
  await shop?.close();
  shop = undefined;
});

const scenario = (load: string, extra = ''): TScenario =>
  parseScenario(`name: t
setup: { users: 3, products: 2 }
mix: { browse: 4, view_product: 2, checkout: 3, order_status: 2, cancel: 1 }
load: ${load}
http: { timeout: 5s }
${extra}`);

function pairedHistory(h: THistoryEvent[]) {
  const open = new Map<number, THistoryEvent[]>();
  let completions = 0;
  for (const e of h) {
    const q = open.get(e.process) ?? [];
    if (e.type === 'invoke') {
      q.push(e);
      open.set(e.process, q);
    } else {
      const inv = q.shift();
      expect(inv?.f).toBe(e.f);
      completions++;
    }
  }
  return completions;
}

describe('built-in engine', () => {
  it('constant-arrival-rate runs exactly the scheduled iterations, with history an auditor can trust', async () => {
    shop = await startFakeShop({ delayMs: () => 2 });
    const seconds: TLoadSecond[] = [];
    const r = await runEngine(
      scenario(
        '{ executor: constant-arrival-rate, rate: 40, duration: 2s, preAllocatedVUs: 20, maxVUs: 40 }',
        `thresholds:
  http_req_duration{name:checkout}: ['p(95)<2000']
  http_req_failed: ['rate<0.01']
  iterations: ['count>0']`,
      ),
      { baseUrl: shop.url, onSecond: (s) => seconds.push(s) },
    );
    expect(r.thresholds.filter((t) => !t.ok)).toEqual([]);
    expect(r.exitCode).toBe(0);
    // every scheduled iteration either ran or was dropped (a busy machine may starve the VUs)
    expect(r.metrics.iterations.values.count + (r.metrics.dropped_iterations?.values.count ?? 0)).toBe(80);
    expect(r.thresholds).toEqual([
      { metric: 'http_req_duration{name:checkout}', expression: 'p(95)<2000', ok: true },
      { metric: 'http_req_failed', expression: 'rate<0.01', ok: true },
      { metric: 'iterations', expression: 'count>0', ok: true },
    ]);
    expect(r.metrics['http_req_duration{name:checkout}'].values.avg).toBeGreaterThan(0);
    expect(r.metrics.http_req_corrected_duration.values.med).toBeGreaterThanOrEqual(r.metrics.http_req_duration.values.min);
    // seconds: the scheduled target and the achieved rate
    expect(seconds.length).toBeGreaterThanOrEqual(2);
    // due iterations count in their own second (late ones, on a busy machine, in the next)
    expect(seconds[0].target).toBeLessThanOrEqual(40);
    expect(seconds[0].target).toBeGreaterThanOrEqual(30);
    expect(seconds[0].rps).toBeGreaterThanOrEqual(25);
    expect(seconds.reduce((s, x) => s + x.target, 0)).toBe(80);
    // every acknowledged checkout carries its order id and idempotency key, and the shop has exactly those orders
    const completions = pairedHistory(r.history);
    expect(completions * 2).toBe(r.history.length);
    const ok = r.history.filter((e) => e.f === 'checkout' && e.type === 'ok');
    expect(ok.length).toBeGreaterThan(5);
    for (const e of ok) {
      expect(e.value.idempotencyKey).toMatch(/^[0-9a-f-]{36}$/);
      expect(shop.orders.get(e.value.orderId!)?.key).toBe(e.value.idempotencyKey);
    }
    expect(shop.orders.size).toBe(ok.length);
    const cancelled = r.history.filter((e) => e.f === 'cancel' && e.type === 'ok').map((e) => e.value.orderId);
    for (const id of cancelled) expect(shop.orders.get(id!)?.status).toBe('cancelled');
    expect(r.history.filter((e) => e.f === 'register')).toHaveLength(6);
  });

  it('drops iterations when VUs run out, exactly like k6 (no retry, one extra VU at a time up to maxVUs)', async () => {
    shop = await startFakeShop({ delayMs: (m, p) => (p === '/products' && m === 'GET' ? 300 : 0) });
    const s = parseScenario(`name: drops
setup: { users: 0, products: 0 }
mix: { browse: 1 }
load: { executor: constant-arrival-rate, rate: 20, duration: 2s, preAllocatedVUs: 1, maxVUs: 3 }
thresholds:
  dropped_iterations: ['count==0']
`);
    const r = await runEngine(s, { baseUrl: shop.url });
    const it = r.metrics.iterations.values.count;
    const dropped = r.metrics.dropped_iterations.values.count;
    expect(it + dropped).toBe(40);
    expect(dropped).toBeGreaterThan(10);
    expect(r.metrics.vus_max.values.max).toBe(3);
    expect(r.exitCode).toBe(99);
    // the dropped iterations waited for a VU: the corrected latency sees it, k6's does not
    expect(r.metrics.http_req_corrected_duration.values['p(90)']).toBeGreaterThan(r.metrics.http_req_duration.values['p(90)']);
  });

  it('corrected latency counts the wait from the intended start when the server stalls (closed model hides it)', async () => {
    // the shop stalls the first 1.5 s of the run (the first /products request starts the clock)
    let stallUntil = 0;
    shop = await startFakeShop({
      delayMs: (_m, p) => {
        if (p !== '/products') return 0;
        stallUntil ||= Date.now() + 1500;
        return Math.max(0, stallUntil - Date.now());
      },
    });
    const r = await runEngine(
      parseScenario(`name: stall
setup: { users: 0, products: 0 }
mix: { browse: 1 }
load: { executor: constant-arrival-rate, rate: 50, duration: 2s, preAllocatedVUs: 2, maxVUs: 2 }
`),
      { baseUrl: shop.url },
    );
    const k6p50 = r.metrics.http_req_duration.values.med;
    const cp50 = r.metrics.http_req_corrected_duration.values.med;
    expect(cp50).toBeGreaterThan(200);
    expect(k6p50).toBeLessThan(cp50);
  });

  it('abortOnFail stops the run early with exit 99', async () => {
    shop = await startFakeShop({ failWith: (m, p) => (p === '/products' && m === 'GET' ? 503 : undefined) });
    const t0 = Date.now();
    const r = await runEngine(
      parseScenario(`name: abort
setup: { users: 0, products: 0 }
mix: { browse: 1 }
load: { executor: constant-arrival-rate, rate: 20, duration: 20s, preAllocatedVUs: 5 }
thresholds:
  http_req_failed: [{ threshold: 'rate<0.1', abortOnFail: true }]
`),
      { baseUrl: shop.url, thresholdPeriodMs: 200 },
    );
    expect(r.exitCode).toBe(99);
    expect(r.abortReason).toMatch(/http_req_failed rate<0.1/);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(r.seconds.flatMap((s) => Object.keys(s.errorsByKind))).toContain('http_503');
  });

  it('an external abort stops at once with exit 105; interrupted writes are history `info`', async () => {
    shop = await startFakeShop({ delayMs: (m, p) => (p === '/checkout' ? 5000 : 0) });
    const ac = new AbortController();
    // abort once five checkouts are in flight (not at a fixed time: setup takes longer on a busy machine)
    let invoked = 0;
    const r = await runEngine(
      parseScenario(`name: ext
setup: { users: 1, products: 1 }
mix: { checkout: 1 }
load: { executor: constant-arrival-rate, rate: 10, duration: 30s, preAllocatedVUs: 20 }
`),
      {
        baseUrl: shop.url,
        signal: ac.signal,
        onHistory: (e) => {
          if (e.f === 'checkout' && e.type === 'invoke' && ++invoked === 5) ac.abort();
        },
      },
    );
    expect(r.exitCode).toBe(105);
    const infos = r.history.filter((e) => e.f === 'checkout' && e.type === 'info');
    expect(infos.length).toBeGreaterThan(3);
    expect(infos[0].value).toMatchObject({ error: 'interrupted' });
    expect(r.metrics.iterations).toBeUndefined();
  });

  it("ramping-arrival-rate follows k6's schedule: 0→20/s over 2 s is 20 iterations, later seconds busier", async () => {
    shop = await startFakeShop({ delayMs: () => 1 });
    const seconds: TLoadSecond[] = [];
    const r = await runEngine(
      parseScenario(`name: ramp
setup: { users: 0, products: 0 }
mix: { browse: 1 }
load: { executor: ramping-arrival-rate, startRate: 0, preAllocatedVUs: 10, stages: [{ duration: 2s, target: 20 }] }
`),
      { baseUrl: shop.url, onSecond: (s) => seconds.push(s) },
    );
    expect(r.metrics.iterations.values.count + (r.metrics.dropped_iterations?.values.count ?? 0)).toBe(20);
    // area under the ramp: 5 due by t=1 s (the 5th exactly at 1 s, on the boundary), 15 in the second
    expect(seconds[0].target).toBeGreaterThanOrEqual(4);
    expect(seconds[0].target).toBeLessThanOrEqual(5);
    expect(seconds.reduce((a, x) => a + x.target, 0)).toBe(20);
  });

  it('constant-vus and ramping-vus run closed loops with the planned VU counts', async () => {
    shop = await startFakeShop({ delayMs: () => 20 });
    const cv = await runEngine(scenario('{ executor: constant-vus, vus: 3, duration: 1s }'), { baseUrl: shop.url });
    expect(cv.metrics.vus_max.values.max).toBe(3);
    expect(cv.metrics.iterations.values.count).toBeGreaterThan(60);
    expect(cv.metrics.iterations.values.count).toBeLessThan(160);
    const seen: number[] = [];
    const rv = await runEngine(
      scenario('{ executor: ramping-vus, startVUs: 0, stages: [{ duration: 2s, target: 4 }, { duration: 1s, target: 4 }], gracefulRampDown: 1s }'),
      {
        baseUrl: shop.url,
        onSecond: (s) => seen.push(s.activeVus),
      },
    );
    expect(rv.metrics.vus_max.values.max).toBe(4);
    expect(rv.metrics.vus.values.max).toBeGreaterThanOrEqual(3);
    expect(seen[0]).toBeLessThanOrEqual(2);
  });

  it('setup failure is an error with k6 exit status 107', async () => {
    await expect(runEngine(scenario('{ executor: constant-vus, vus: 1, duration: 1s }'), { baseUrl: 'http://127.0.0.1:1' })).rejects.toMatchObject({
      code: 'UNAVAILABLE',
      details: { exitCode: 107 },
    });
  });
});

describe('runLoad', () => {
  it('runs the engine in a worker thread and streams seconds and history', async () => {
    shop = await startFakeShop({ delayMs: () => 1 });
    const seconds: TLoadSecond[] = [];
    const events: THistoryEvent[] = [];
    const r = await runLoad(scenario('{ executor: constant-arrival-rate, rate: 30, duration: 2s, preAllocatedVUs: 5 }'), {
      engine: 'builtin',
      baseUrl: shop.url,
      onSecond: (s) => seconds.push(s),
      onHistory: (e) => events.push(e),
    });
    expect(r.engine).toBe('builtin');
    expect(r.metrics.iterations.values.count + (r.metrics.dropped_iterations?.values.count ?? 0)).toBe(60);
    expect(seconds.length).toBeGreaterThanOrEqual(2);
    expect(events.length).toBe(r.history.length);
    expect(r.history.map((e) => e.index)).toEqual(r.history.map((_, i) => i));
  });

  it('is abortable: the worker stops at once and answers exit status 105', async () => {
    shop = await startFakeShop({ delayMs: () => 1 });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 700);
    const t0 = Date.now();
    const r = await runLoad(scenario('{ executor: constant-arrival-rate, rate: 20, duration: 60s, preAllocatedVUs: 5 }'), {
      engine: 'builtin',
      baseUrl: shop.url,
      signal: ac.signal,
    });
    expect(r.exitCode).toBe(105);
    expect(r.abortReason).toBe('aborted');
    expect(Date.now() - t0).toBeLessThan(15_000);
  });

  it('refuses engine k6 when no k6 is installed', async () => {
    const old = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      await expect(
        runLoad(scenario('{ executor: constant-vus, vus: 1, duration: 1s }'), { engine: 'k6', baseUrl: 'http://127.0.0.1:1' }),
      ).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    } finally {
      process.env.PATH = old;
    }
  });
});
