/**
 * A stock reservation that times out at orders but still commits at catalog
 * must never leak stock (issue 10). The interleavings are driven
 * deterministically:
 *
 *  - overlap: the test holds the product's stock row lock, so the first
 *    reservation attempt is stuck inside its transaction past orders' call
 *    timeout; the retry arrives while it still runs; then the lock is let go.
 *    (Before the fix the retry conflicted with the first attempt's row —
 *    `409 reservation_released` — or read the stock it took as a false
 *    `out_of_stock`, and orders failed the order without releasing.)
 *  - refused retry: the first attempt commits but its answer is delayed past
 *    the timeout (HTTP delay at response); the retry is refused (HTTP abort
 *    409). Orders cannot prove nothing was reserved, so it must release.
 *
 * Each case ends settled and checks conservation: initial = available +
 * reserved + sold, reserved = live reservations, and no live reservation of
 * a finished order.
 */
import { afterEach, describe, expect, it } from 'vitest';
import pg from 'pg';
import { startTestShop, type TTestShop } from '../testing.js';
import { api, checkout, instanceUrl, login, metric, productBySku, q, stockOf, waitFor } from './helpers.js';

let shop: TTestShop | undefined;
afterEach(async () => {
  await shop?.stop();
  shop = undefined;
});

// One retry, a timeout long enough that the retry is answered well inside it on a busy machine.
const SETTINGS = { clientTimeoutMs: 3000, clientRetries: 1, breakerThreshold: 20, pollMs: 100 };

/** No saga in flight, outbox drained, no live reservation of a finished order (bounded wait). */
async function settle(dbUrl: string): Promise<boolean> {
  return waitFor(
    async () => {
      const [r] = await q(
        dbUrl,
        `SELECT (SELECT count(*) FROM orders.sagas WHERE state NOT IN ('completed','compensated','failed'))::int AS open,
              (SELECT count(*) FROM orders.outbox WHERE published_at IS NULL)::int AS unpublished,
              (SELECT count(*) FROM catalog.reservations r JOIN orders.orders o ON o.id = r.order_id
                WHERE r.status = 'reserved' AND o.status <> 'pending')::int AS live`,
      );
      return r.open === 0 && r.unpublished === 0 && r.live === 0;
    },
    20_000,
    100,
  );
}

/** Stock counters against the reservation rows of one product. */
async function audit(dbUrl: string, productId: string) {
  const st = await stockOf(dbUrl, productId);
  const [rows] = await q(
    dbUrl,
    `SELECT coalesce(sum(qty) FILTER (WHERE status = 'reserved'), 0)::int AS reserved,
            coalesce(sum(qty) FILTER (WHERE status = 'committed'), 0)::int AS committed
       FROM catalog.reservations WHERE product_id = $1`,
    [productId],
  );
  const [leaked] = await q(
    dbUrl,
    `SELECT count(*)::int AS n FROM catalog.reservations r JOIN orders.orders o ON o.id = r.order_id
      WHERE r.product_id = $1 AND r.status IN ('reserved','committed') AND o.status IN ('failed','cancelled')`,
    [productId],
  );
  return { st, liveReserved: rows.reserved as number, committed: rows.committed as number, heldByFinished: leaked.n as number };
}

/**
 * Backends of the shop database waiting on a lock. Asked outside the lock
 * holder's transaction: pg_stat_activity is a snapshot per transaction.
 */
async function lockWaiters(dbUrl: string): Promise<number> {
  const [r] = await q(dbUrl, "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'");
  return r.n;
}

describe('a reservation retried while its first attempt still runs', () => {
  async function overlap(sku: string, qtyOf: (available: number) => number) {
    const s = (shop = await startTestShop({ settings: SETTINGS }));
    const token = await login(s.gatewayUrl);
    const product = await productBySku(s.gatewayUrl, sku);
    const before = await stockOf(s.dbUrl, product.id);
    const qty = qtyOf(before.available);
    const orders = instanceUrl(s, 'orders-0');

    const locker = new pg.Client({ connectionString: s.dbUrl });
    await locker.connect();
    let answer: Awaited<ReturnType<typeof checkout>>;
    try {
      await locker.query('BEGIN');
      await locker.query('SELECT 1 FROM catalog.stock WHERE product_id = $1 FOR UPDATE', [product.id]);
      const pending = checkout(s.gatewayUrl, token, [{ productId: product.id, qty }]);
      // Attempt 1 is stuck inside its transaction; orders times out and retries.
      const both = await waitFor(async () => (await lockWaiters(s.dbUrl)) >= 2, 15_000, 20);
      expect(both).toBe(true);
      await locker.query('COMMIT');
      answer = await pending;
    } finally {
      await locker.end();
    }
    // Orders gave up on the first attempt (the second waited beside it, above).
    expect(await metric(orders, 'http_client_request_duration_seconds_count', { target: 'catalog', outcome: 'timeout' })).toBeGreaterThanOrEqual(1);
    const settled = await settle(s.dbUrl);
    return { answer, settled, before, qty, audit: await audit(s.dbUrl, product.id), orderId: answer.body?.orderId as string };
  }

  function expectConserved(a: Awaited<ReturnType<typeof audit>>) {
    expect(a.st.available + a.st.reserved + a.st.sold).toBe(a.st.initial);
    expect(a.st.reserved).toBe(a.liveReserved);
    expect(a.heldByFinished).toBe(0);
  }

  it('answers the retry from the first attempt: order confirmed, stock counted once (no reservation_released)', async () => {
    const r = await overlap('MUG-001', () => 1);
    expect(r.answer.status).toBe(201);
    expect(r.answer.body.status).toBe('confirmed');
    expect(r.settled).toBe(true);
    expectConserved(r.audit);
    expect(r.audit.st.sold).toBe(r.before.sold + 1);
    expect(r.audit.st.available).toBe(r.before.available - 1);
    expect(r.audit.committed).toBe(1);
    const [o] = await q(shop!.dbUrl, 'SELECT o.status, s.state FROM orders.orders o JOIN orders.sagas s ON s.order_id = o.id WHERE o.id = $1', [r.orderId]);
    expect(o).toEqual({ status: 'confirmed', state: 'completed' });
  });

  it("the retry does not read the first attempt's stock as a false out_of_stock", async () => {
    const r = await overlap('BOOK-002', (available) => Math.min(available, 100));
    expect(r.answer.status).toBe(201);
    expect(r.settled).toBe(true);
    expectConserved(r.audit);
    expect(r.audit.st.sold).toBe(r.before.sold + r.qty);
    expect(r.audit.committed).toBe(r.qty);
  });
});

describe('a refused reservation retry after a timed-out attempt that reserved', () => {
  it("orders releases the first attempt's stock: order failed, nothing held", async () => {
    const s = (shop = await startTestShop({ settings: SETTINGS }));
    const token = await login(s.gatewayUrl);
    const product = await productBySku(s.gatewayUrl, 'HAT-001');
    const before = await stockOf(s.dbUrl, product.id);
    const catalog = instanceUrl(s, 'catalog-0');

    // Attempt 1 reserves, but its answer arrives after orders' timeout.
    const late = await api(catalog, 'POST', '/__admin/faults', {
      body: { route: '/reservations', method: 'POST', kind: 'delay', delayMs: 8000, at: 'response' },
    });
    expect(late.status).toBe(201);
    const pending = checkout(s.gatewayUrl, token, [{ productId: product.id, qty: 2 }]);
    const reserved = await waitFor(
      async () => (await q(s.dbUrl, "SELECT 1 FROM catalog.reservations WHERE product_id = $1 AND status = 'reserved'", [product.id])).length > 0,
      10_000,
      20,
    );
    expect(reserved).toBe(true);
    // The retry is refused (as a conflicting retry was before the catalog fix).
    expect((await api(catalog, 'DELETE', `/__admin/faults/${late.body.id}`)).status).toBeLessThan(300);
    expect((await api(catalog, 'POST', '/__admin/faults', { body: { route: '/reservations', method: 'POST', kind: 'abort', status: 409 } })).status).toBe(201);
    const answer = await pending;

    expect(await metric(catalog, 'http_server_request_duration_seconds_count', { route: '/reservations', method: 'POST', status: '409' })).toBe(1);
    expect(answer.status).toBe(503);
    expect(answer.body.error.code).toBe('stock_unavailable');
    expect(await settle(s.dbUrl)).toBe(true);
    const a = await audit(s.dbUrl, product.id);
    expect(a.st).toEqual(before);
    expect(a.liveReserved).toBe(0);
    expect(a.heldByFinished).toBe(0);
    const [o] = await q(s.dbUrl, 'SELECT o.status, o.failure_reason, s.state FROM orders.orders o JOIN orders.sagas s ON s.order_id = o.id WHERE o.id = $1', [
      answer.body.orderId,
    ]);
    expect(o).toEqual({ status: 'failed', failure_reason: 'stock_unavailable', state: 'compensated' });
  });
});
