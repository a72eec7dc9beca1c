/**
 * The smoke scenario against the real shop (startTestShop: all services,
 * own database and Redis prefix, random ports), through runLoad's worker.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestShop, type TTestShop } from '../../shop/testing.js';
import { loadScenarioFile, runLoad, withOverrides, type THistoryEvent, type TLoadSecond } from '../index.js';

let shop: TTestShop;
beforeAll(async () => {
  shop = await startTestShop();
}, 120_000);
afterAll(async () => {
  await shop?.stop();
});

describe('smoke scenario against the real shop', () => {
  it('places checkouts whose acknowledged order ids exist in the orders table; thresholds evaluated', async () => {
    const smoke = await loadScenarioFile(new URL('../scenarios/smoke.yaml', import.meta.url).pathname);
    // a few rps for a few seconds, weighted towards writes so the run is short but meaningful
    const s = withOverrides({ ...smoke, mix: { browse: 2, view_product: 1, checkout: 4, order_status: 2, cancel: 1 } }, { rate: 5, duration: '4s' });
    const seconds: TLoadSecond[] = [];
    const r = await runLoad(s, { engine: 'builtin', baseUrl: shop.gatewayUrl, onSecond: (x) => seconds.push(x) });

    expect(seconds.length).toBeGreaterThanOrEqual(4);
    expect(r.metrics.iterations.values.count + (r.metrics.dropped_iterations?.values.count ?? 0)).toBe(20);
    expect(r.thresholds.map((t) => t.metric)).toEqual(['http_req_failed', 'http_req_duration', 'http_req_duration{name:checkout}', 'checks']);

    const ok = r.history.filter((e: THistoryEvent) => e.f === 'checkout' && e.type === 'ok');
    expect(ok.length).toBeGreaterThan(0);
    for (const e of ok) {
      expect(e.value.orderId).toBeTruthy();
      expect(e.value.idempotencyKey).toBeTruthy();
      expect(e.value.totalCents).toBeGreaterThan(0);
    }
    const client = new pg.Client({ connectionString: shop.dbUrl });
    await client.connect();
    try {
      const rows = await client.query('select id::text as id, idempotency_key from orders.orders where id::text = any($1)', [ok.map((e) => e.value.orderId)]);
      expect(rows.rowCount).toBe(ok.length);
      const byId = new Map(rows.rows.map((x: { id: string; idempotency_key: string }) => [x.id, x.idempotency_key]));
      for (const e of ok) expect(byId.get(e.value.orderId!)).toBe(e.value.idempotencyKey);
    } finally {
      await client.end();
    }
    // a failed run must say why: every non-ok completion names its error
    for (const e of r.history.filter((x) => x.type === 'fail' || x.type === 'info')) expect(e.value.error ?? e.value.status).toBeTruthy();
  }, 90_000);
});
