/**
 * Resilience of the orders->payments edge on the real stack: the breaker
 * opens when payments is down and closes after it returns; losing one of two
 * payments instances does not fail checkouts once the registry TTL passed.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { startTestShop, type TTestShop } from '../testing.js';
import { api, checkout, instanceUrl, login, metric, productBySku, q, waitFor } from './helpers.js';

let shop: TTestShop | undefined;
afterEach(async () => {
  await shop?.stop();
  shop = undefined;
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('orders->payments circuit breaker', () => {
  it('opens when payments is down and closes after it returns; sagas still end terminal', async () => {
    shop = await startTestShop({
      registryTtlMs: 1000,
      settings: { clientTimeoutMs: 500, clientRetries: 1, breakerThreshold: 3, breakerHalfOpenAfterMs: 1000, sagaDeadlineMs: 2000, pollMs: 100 },
    });
    const token = await login(shop.gatewayUrl);
    const mug = await productBySku(shop.gatewayUrl, 'MUG-001');
    const orders = instanceUrl(shop, 'orders-0');
    const breaker = { service: 'orders', breaker: 'orders->payments' };

    expect((await checkout(shop.gatewayUrl, token, [{ productId: mug.id, qty: 1 }])).status).toBe(201);
    expect(await metric(orders, 'circuit_breaker_state', breaker)).toBe(0);

    await shop.stopInstance('payments-0');
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await checkout(shop.gatewayUrl, token, [{ productId: mug.id, qty: 1 }])).status);
    expect(statuses.every((s) => s === 503)).toBe(true);
    expect(await metric(orders, 'circuit_breaker_state', breaker)).toBe(1);
    expect(await metric(orders, 'circuit_breaker_events_total', { ...breaker, event: 'open' })).toBeGreaterThanOrEqual(1);
    // Once open, calls fail fast without reaching the network.
    expect(
      await metric(orders, 'http_client_request_duration_seconds_count', { service: 'orders', target: 'payments', outcome: 'breaker_open' }),
    ).toBeGreaterThan(0);

    await shop.startInstance('payments-0');
    await sleep(1200); // past halfOpenAfter
    const back = await waitFor(async () => (await checkout(shop!.gatewayUrl, token, [{ productId: mug.id, qty: 1 }])).status === 201, 8000, 300);
    expect(back).toBe(true);
    expect(await metric(orders, 'circuit_breaker_state', breaker)).toBe(0);
    expect(await metric(orders, 'circuit_breaker_events_total', { ...breaker, event: 'half_open' })).toBeGreaterThanOrEqual(1);
    expect(await metric(orders, 'circuit_breaker_events_total', { ...breaker, event: 'close' })).toBeGreaterThanOrEqual(1);

    // The failed checkouts were compensated (by the request or, past the deadline, by the sweeper),
    // and the stock of the confirmed ones committed: the order.confirmed consumer does that after
    // the saga completed, so "every saga terminal" alone can come a moment before it.
    const settled = await waitFor(
      async () =>
        (await q(shop!.dbUrl, "SELECT count(*)::int AS n FROM orders.sagas WHERE state NOT IN ('completed','compensated','failed')"))[0].n === 0 &&
        (await q(shop!.dbUrl, "SELECT count(*)::int AS n FROM catalog.reservations WHERE status = 'reserved'"))[0].n === 0,
      10_000,
      200,
    );
    expect(settled).toBe(true);
    const [leak] = await q(shop.dbUrl, "SELECT count(*)::int AS n FROM catalog.reservations r WHERE r.status = 'reserved'");
    expect(leak.n).toBe(0);
    const byStatus = await q(shop.dbUrl, 'SELECT status, failure_reason, count(*)::int AS n FROM orders.orders GROUP BY 1, 2 ORDER BY 1, 2');
    const failed = byStatus.filter((r) => r.status === 'failed').reduce((a, r) => a + r.n, 0);
    expect(failed).toBe(6);
  });
});

describe('registry and client-side load balancing', () => {
  it('a crashed payments instance (one of two) stops receiving calls within the TTL; checkouts keep succeeding', async () => {
    shop = await startTestShop({ instances: { payments: 2 }, registryTtlMs: 1000, settings: { clientTimeoutMs: 1000 } });
    const token = await login(shop.gatewayUrl);
    const mug = await productBySku(shop.gatewayUrl, 'MUG-002');
    // Both instances serve charges while healthy.
    for (let i = 0; i < 6; i++) expect((await checkout(shop.gatewayUrl, token, [{ productId: mug.id, qty: 1 }])).status).toBe(201);
    const p1 = instanceUrl(shop, 'payments-1');
    expect(await metric(p1, 'http_server_request_duration_seconds_count', { route: '/charges', status: '201' })).toBeGreaterThan(0);

    await shop.stopInstance('payments-1'); // crash: no deregistration
    const redis = new Redis(shop.redisUrl);
    try {
      const listed = await waitFor(
        async () => {
          const live = await redis.zrangebyscore(`${shop!.redisPrefix}:registry:payments`, Date.now() - 1000, '+inf');
          return !live.includes('payments-1');
        },
        3000,
        100,
      );
      expect(listed).toBe(true);
    } finally {
      redis.disconnect();
    }
    await sleep(300); // callers' discovery cache
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) statuses.push((await checkout(shop.gatewayUrl, token, [{ productId: mug.id, qty: 1 }])).status);
    expect(statuses).toEqual(Array(10).fill(201));
    const health = await api(instanceUrl(shop, 'payments-0'), 'GET', '/health');
    expect(health.body).toMatchObject({ ok: true, instance: 'payments-0' });
  });
});
