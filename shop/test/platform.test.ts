/**
 * What the platform relies on: SHOP_EDGES routing (every outbound address
 * through the edge table), the loopback admin API (HTTP faults, run context),
 * log line and metric contracts, rate limiting and the catalog cache fallback.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { startTestShop, type TTestShop } from '../testing.js';
import { api, checkout, instanceUrl, logSink, login, metric, productBySku, q, tcpForwarder, waitFor } from './helpers.js';

let shop: TTestShop | undefined;
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c().catch(() => {});
  await shop?.stop();
  shop = undefined;
});

describe('SHOP_EDGES', () => {
  it('routes orders->payments and orders->postgres through the given proxies; a dead proxy breaks the edge', async () => {
    shop = await startTestShop({ settings: { clientTimeoutMs: 500, clientRetries: 1 } });
    const token = await login(shop.gatewayUrl);
    const mug = await productBySku(shop.gatewayUrl, 'MUG-001');
    const payments = tcpForwarder(new URL(instanceUrl(shop, 'payments-0')).host);
    const pg = tcpForwarder('127.0.0.1:5432');
    const [pp, pgp] = await Promise.all([payments, pg]);
    cleanups.push(pp.close, pgp.close);
    await shop.stopInstance('orders-0', { graceful: true });
    await shop.startInstance('orders-0', { edges: { 'orders->payments': { 'payments-0': pp.address }, 'orders->postgres': pgp.address } });
    const r = await checkout(shop.gatewayUrl, token, [{ productId: mug.id, qty: 1 }]);
    expect(r.status).toBe(201);
    expect(pp.connections()).toBeGreaterThanOrEqual(1);
    expect(pgp.connections()).toBeGreaterThanOrEqual(1);
    // Cut the payments proxy: the edge is down although payments itself is fine.
    await pp.close();
    const cut = await checkout(shop.gatewayUrl, token, [{ productId: mug.id, qty: 1 }]);
    expect(cut.status).toBe(503);
    expect(cut.body.error.code).toBe('payment_unavailable');
    const direct = await api(instanceUrl(shop, 'payments-0'), 'GET', '/health');
    expect(direct.status).toBe(200);
  });
});

describe('admin API, logs and metrics', () => {
  it('HTTP faults abort and delay matching requests until removed', async () => {
    shop = await startTestShop();
    const catalog = instanceUrl(shop, 'catalog-0');
    const mug = await productBySku(shop.gatewayUrl, 'MUG-001');
    const add = await api(catalog, 'POST', '/__admin/faults', { body: { kind: 'abort', route: '/products/:id', method: 'get', status: 503 } });
    expect(add.status).toBe(201);
    const hit = await api(shop.gatewayUrl, 'GET', `/products/${mug.id}`);
    expect(hit.status).toBe(503);
    expect(hit.body.error.code).toBe('fault_injected');
    expect((await api(shop.gatewayUrl, 'GET', '/products')).status).toBe(200); // other route untouched
    expect((await api(catalog, 'GET', '/__admin/faults')).body.faults).toHaveLength(1);
    expect((await api(catalog, 'DELETE', `/__admin/faults/${add.body.id}`)).status).toBe(200);
    expect((await api(shop.gatewayUrl, 'GET', `/products/${mug.id}`)).status).toBe(200);

    await api(catalog, 'POST', '/__admin/faults', { body: { kind: 'delay', route: '/products', delayMs: 300 } });
    const t0 = performance.now();
    expect((await api(shop.gatewayUrl, 'GET', '/products')).status).toBe(200);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(290);
    expect((await api(catalog, 'DELETE', '/__admin/faults')).body).toEqual({ removed: 1 });

    const bad = await api(catalog, 'POST', '/__admin/faults', { body: { kind: 'delay', percentage: 120 } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain('body.delayMs');
    expect(bad.body.error.message).toContain('body.percentage');
  });

  it('log lines carry time, level, service, instance, msg, requestId and the runId while set', async () => {
    const sink = logSink();
    shop = await startTestShop({ logLevel: 'info', logDestination: sink });
    const token = await login(shop.gatewayUrl);
    const mug = await productBySku(shop.gatewayUrl, 'MUG-001');
    const runId = `run-${randomUUID()}`;
    for (const i of shop.instances) expect((await api(i.url, 'PUT', '/__admin/context', { body: { runId } })).status).toBe(200);
    const requestId = randomUUID();
    const r = await api(shop.gatewayUrl, 'POST', '/checkout', {
      token,
      key: randomUUID(),
      body: { items: [{ productId: mug.id, qty: 1 }] },
      headers: { 'x-request-id': requestId },
    });
    expect(r.status).toBe(201);
    expect(r.headers.get('x-request-id')).toBe(requestId);
    // async pino destination, and a service logs after it answered: polled, not a fixed sleep
    const services = () =>
      new Set(
        sink
          .lines()
          .filter((l) => l.requestId === requestId)
          .map((l) => l.service as string),
      );
    await waitFor(async () => services().size >= 5, 10_000, 50);
    const lines = sink.lines().filter((l) => l.requestId === requestId);
    // The id travels downstream: gateway, users (token), orders, catalog, payments all log it.
    expect(new Set(lines.map((l) => l.service))).toEqual(new Set(['gateway', 'users', 'orders', 'catalog', 'payments']));
    for (const l of lines) {
      expect(l).toMatchObject({ level: 'info', runId, msg: 'request completed' });
      expect(l.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(l.instance).toBe(`${l.service}-0`);
    }
    const ordersLine = lines.find((l) => l.service === 'orders');
    expect(ordersLine).toMatchObject({ route: '/checkout', method: 'POST', status: 201 });
    for (const i of shop.instances) await api(i.url, 'PUT', '/__admin/context', { body: { runId: null } });
    await api(shop.gatewayUrl, 'GET', '/products', { headers: { 'x-request-id': 'after-run' } });
    await waitFor(async () => sink.lines().some((l) => l.requestId === 'after-run'), 10_000, 50);
    const after = sink.lines().filter((l) => l.requestId === 'after-run');
    expect(after.length).toBeGreaterThan(0);
    for (const l of after) expect(l.runId).toBeUndefined();
  });

  it('exposes the contract metrics with route patterns', async () => {
    shop = await startTestShop();
    const token = await login(shop.gatewayUrl);
    const mug = await productBySku(shop.gatewayUrl, 'MUG-001');
    const r = await checkout(shop.gatewayUrl, token, [{ productId: mug.id, qty: 1 }]);
    expect((await api(shop.gatewayUrl, 'GET', `/orders/${r.body.orderId}`, { token })).status).toBe(200);
    const gw = shop.gatewayUrl;
    const orders = instanceUrl(shop, 'orders-0');
    expect(await metric(gw, 'http_server_request_duration_seconds_count', { service: 'gateway', route: '/orders/:id', method: 'GET', status: '200' })).toBe(1);
    expect(await metric(orders, 'http_client_request_duration_seconds_count', { service: 'orders', target: 'payments', outcome: 'success' })).toBe(1);
    expect(await metric(orders, 'saga_transitions_total', { service: 'orders', from: 'payment_captured', to: 'completed' })).toBe(1);
    expect(await metric(orders, 'circuit_breaker_state', { service: 'orders', breaker: 'orders->catalog' })).toBe(0);
    const text = await (await fetch(`${orders}/metrics`)).text();
    expect(text).toContain('# TYPE outbox_pending gauge');
    expect(text).toContain('# TYPE circuit_breaker_events_total counter');
  });
});

describe('gateway rate limit and catalog fallback', () => {
  it('answers 429 with Retry-After once a client exhausts its bucket', async () => {
    shop = await startTestShop({ settings: { rateLimitRps: 1, rateLimitBurst: 3 } });
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 5; i++) {
      const r = await api(shop.gatewayUrl, 'GET', '/products', { headers: { 'x-client-id': 'c1' } });
      statuses.push(r.status);
      if (r.status === 429) retryAfter = r.headers.get('retry-after');
    }
    expect(statuses.slice(0, 3)).toEqual([200, 200, 200]);
    expect(statuses[4]).toBe(429);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    // Another client has its own bucket.
    expect((await api(shop.gatewayUrl, 'GET', '/products', { headers: { 'x-client-id': 'c2' } })).status).toBe(200);
  });

  it('catalog serves products from its Redis cache when its database edge is down', async () => {
    shop = await startTestShop();
    const first = await api(shop.gatewayUrl, 'GET', '/products');
    expect(first.status).toBe(200);
    await new Promise((r) => setTimeout(r, 100)); // cache write is fire-and-forget
    const dead = await tcpForwarder('127.0.0.1:5432');
    await dead.close(); // a port nobody listens on
    await shop.stopInstance('catalog-0', { graceful: true });
    await shop.startInstance('catalog-0', { edges: { 'catalog->postgres': dead.address } });
    const r = await api(shop.gatewayUrl, 'GET', '/products');
    expect(r.status).toBe(200);
    expect(r.headers.get('x-cache')).toBe('fallback');
    expect(r.body.products.map((p: { sku: string }) => p.sku)).toEqual(first.body.products.map((p: { sku: string }) => p.sku));
    // Liveness stays 200 (no crash loop under a database fault) and names the dependency.
    const health = await api(instanceUrl(shop, 'catalog-0'), 'GET', '/health');
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ ok: true, db: 'down' });
    expect((await api(instanceUrl(shop, 'orders-0'), 'GET', '/health')).body).toMatchObject({ ok: true, db: 'ok' });
  });
});

describe('transactional outbox under a Redis fault', () => {
  it('checkouts succeed while the queue is unreachable; the outbox drains once it is back', async () => {
    shop = await startTestShop({ settings: { pollMs: 100 } });
    const token = await login(shop.gatewayUrl);
    const mug = await productBySku(shop.gatewayUrl, 'MUG-001');
    const dead = await tcpForwarder('127.0.0.1:6379');
    await dead.close();
    await shop.stopInstance('orders-0', { graceful: true });
    await shop.stopInstance('catalog-0', { graceful: true });
    const cut = { 'orders->redis': dead.address, 'catalog->redis': dead.address };
    await shop.startInstance('orders-0', { edges: cut });
    await shop.startInstance('catalog-0', { edges: cut });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await checkout(shop.gatewayUrl, token, [{ productId: mug.id, qty: 1 }]);
      expect(r.status).toBe(201);
      ids.push(r.body.orderId);
    }
    expect((await api(shop.gatewayUrl, 'GET', '/products')).status).toBe(200); // cache write fails fast
    await new Promise((r) => setTimeout(r, 1500));
    const pending = await q(shop.dbUrl, 'SELECT count(*)::int AS n FROM orders.outbox WHERE published_at IS NULL');
    expect(pending[0].n).toBe(3);
    const ordersUrl = instanceUrl(shop, 'orders-0');
    expect(await waitFor(async () => (await metric(ordersUrl, 'outbox_pending')) === 3, 8000, 200)).toBe(true);

    await shop.stopInstance('orders-0', { graceful: true });
    await shop.startInstance('orders-0', { edges: {} });
    const drained = await waitFor(
      async () => (await q(shop!.dbUrl, 'SELECT count(*)::int AS n FROM orders.outbox WHERE published_at IS NULL'))[0].n === 0,
      10_000,
    );
    expect(drained).toBe(true);
    const committed = await waitFor(async () => {
      const rows = await q(shop!.dbUrl, "SELECT count(*)::int AS n FROM catalog.reservations WHERE order_id = ANY($1::bigint[]) AND status = 'committed'", [
        ids,
      ]);
      return rows[0].n === 3;
    }, 10_000);
    expect(committed).toBe(true);
  });
});
