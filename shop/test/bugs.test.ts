/**
 * Each bug switch produces the anomaly the platform must detect, and the
 * same scenario without the switch does not. Every case runs both ways on a
 * fresh shop.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { startTestShop, type TStartTestShopOptions, type TTestShop } from '../testing.js';
import type { TShopBug } from '../config.js';
import { api, checkout, instanceUrl, login, metric, productBySku, q, stockOf, waitFor } from './helpers.js';

let shop: TTestShop | undefined;
afterEach(async () => {
  await shop?.stop();
  shop = undefined;
});

async function withShop(bug: TShopBug | undefined, opts: TStartTestShopOptions = {}) {
  shop = await startTestShop({ ...opts, bugs: bug ? [bug] : [] });
  return shop;
}

async function addFault(url: string, fault: Record<string, unknown>) {
  const r = await api(url, 'POST', '/__admin/faults', { body: fault });
  expect(r.status).toBe(201);
}

describe('double-charge', () => {
  // The charge completes but its answer is late (delay after the handler): the
  // orders client times out and retries the charge with the same key.
  async function scenario(bug: boolean) {
    const s = await withShop(bug ? 'double-charge' : undefined, { settings: { clientTimeoutMs: 300, clientRetries: 2, breakerThreshold: 20 } });
    const token = await login(s.gatewayUrl);
    const mug = await productBySku(s.gatewayUrl, 'MUG-001');
    await addFault(instanceUrl(s, 'payments-0'), { kind: 'delay', route: '/charges', method: 'POST', delayMs: 600, at: 'response' });
    const r = await checkout(s.gatewayUrl, token, [{ productId: mug.id, qty: 1 }]);
    expect(r.status).toBe(503);
    // Late answers still in flight finish writing before we count: the 800 ms is a minimum (what may
    // still appear has had as long as before), then the count is polled, since a busy machine may
    // need longer for the expected rows to land.
    await new Promise((res) => setTimeout(res, 800));
    const count = async () => {
      const charges = await q(s.dbUrl, "SELECT status FROM payments.payments WHERE order_id = $1 AND status IN ('captured','refunded')", [r.body.orderId]);
      return { charges: charges.length, captured: charges.filter((c) => c.status === 'captured').length };
    };
    const settled = (c: { charges: number; captured: number }) => (bug ? c.charges >= 2 && c.captured >= 1 : c.charges >= 1 && c.captured === 0);
    await waitFor(async () => settled(await count()), 15_000, 100);
    return count();
  }
  it('with the switch, a retried charge captures more than once', async () => {
    const { charges, captured } = await scenario(true);
    expect(charges).toBeGreaterThanOrEqual(2);
    expect(captured).toBeGreaterThanOrEqual(1); // the compensation refunds one capture at most
  });
  it('without it, the retries replay the first charge: one capture, refunded by the compensation', async () => {
    const { charges, captured } = await scenario(false);
    expect(charges).toBe(1);
    expect(captured).toBe(0);
  });
});

describe('missing-compensation', () => {
  async function scenario(bug: boolean) {
    const s = await withShop(bug ? 'missing-compensation' : undefined);
    const token = await login(s.gatewayUrl);
    const big = await productBySku(s.gatewayUrl, 'BIG-TICKET');
    const before = await stockOf(s.dbUrl, big.id);
    const r = await checkout(s.gatewayUrl, token, [{ productId: big.id, qty: 2 }]);
    expect(r.status).toBe(402);
    const [o] = await q(s.dbUrl, 'SELECT status FROM orders.orders WHERE id = $1', [r.body.orderId]);
    expect(o.status).toBe('cancelled');
    return { before, after: await stockOf(s.dbUrl, big.id) };
  }
  it('with the switch, a declined order keeps its stock reserved (leak)', async () => {
    const { before, after } = await scenario(true);
    expect(after.available).toBe(before.available - 2);
    expect(after.reserved).toBe(before.reserved + 2);
  });
  it('without it, the stock is released', async () => {
    const { before, after } = await scenario(false);
    expect(after).toEqual(before);
  });
});

describe('breaker-disabled', () => {
  // payments answers 503 to every charge (HTTP fault); count how many charge
  // attempts still reach it.
  async function scenario(bug: boolean) {
    const s = await withShop(bug ? 'breaker-disabled' : undefined, { settings: { clientRetries: 2, breakerThreshold: 3, breakerHalfOpenAfterMs: 30_000 } });
    const token = await login(s.gatewayUrl);
    const mug = await productBySku(s.gatewayUrl, 'MUG-001');
    const payments = instanceUrl(s, 'payments-0');
    await addFault(payments, { kind: 'abort', route: '/charges', status: 503 });
    for (let i = 0; i < 6; i++) expect((await checkout(s.gatewayUrl, token, [{ productId: mug.id, qty: 1 }])).status).toBe(503);
    const orders = instanceUrl(s, 'orders-0');
    return {
      reached: await metric(payments, 'http_server_request_duration_seconds_count', { route: '/charges', status: '503' }),
      opened: await metric(orders, 'circuit_breaker_events_total', { breaker: 'orders->payments', event: 'open' }),
      rejected: await metric(orders, 'http_client_request_duration_seconds_count', { target: 'payments', outcome: 'breaker_open' }),
    };
  }
  it('with the switch, the breaker never opens and every attempt hits the failing payments', async () => {
    const r = await scenario(true);
    expect(r.opened).toBe(0);
    expect(r.rejected).toBe(0);
    expect(r.reached).toBe(6 * 3);
  });
  it('without it, the breaker opens and later calls fail fast', async () => {
    const r = await scenario(false);
    expect(r.opened).toBeGreaterThanOrEqual(1);
    expect(r.rejected).toBeGreaterThan(0);
    expect(r.reached).toBe(3);
  });
});

describe('lost-ack', () => {
  // The orders instance crashes right after acknowledging a checkout.
  async function scenario(bug: boolean) {
    const s = await withShop(bug ? 'lost-ack' : undefined, { settings: { pollMs: 1000, sagaDeadlineMs: 1500 } });
    const token = await login(s.gatewayUrl);
    const mug = await productBySku(s.gatewayUrl, 'MUG-001');
    const r = await checkout(s.gatewayUrl, token, [{ productId: mug.id, qty: 1 }], randomUUID());
    expect(r.status).toBe(201);
    expect(r.body.status).toBe('confirmed');
    await s.stopInstance('orders-0');
    await s.startInstance('orders-0');
    // Past the saga deadline the sweeper drives whatever is left to a terminal state.
    const until = Date.now() + 10_000;
    let row: { status: string; state: string } | undefined;
    while (Date.now() < until) {
      [row] = await q(s.dbUrl, 'SELECT o.status, s.state FROM orders.orders o JOIN orders.sagas s ON s.order_id = o.id WHERE o.id = $1', [r.body.orderId]);
      if (row && ['completed', 'compensated', 'failed'].includes(row.state)) break;
      await new Promise((res) => setTimeout(res, 200));
    }
    return row!;
  }
  it('with the switch, an acknowledged order is not confirmed in the database', async () => {
    const row = await scenario(true);
    expect(row).toEqual({ status: 'failed', state: 'compensated' });
  });
  it('without it, the acknowledged order is confirmed', async () => {
    const row = await scenario(false);
    expect(row).toEqual({ status: 'confirmed', state: 'completed' });
  });
});

describe('oversell', () => {
  // 25 concurrent checkouts of one unit of a product with 10 in stock.
  async function scenario(bug: boolean) {
    const s = await withShop(bug ? 'oversell' : undefined, { settings: { dbPoolMax: 6 } });
    const token = await login(s.gatewayUrl);
    const ltd = await productBySku(s.gatewayUrl, 'LIMITED-001');
    const rs = await Promise.all(Array.from({ length: 25 }, () => checkout(s.gatewayUrl, token, [{ productId: ltd.id, qty: 1 }])));
    const ok = rs.filter((r) => r.status === 201).length;
    for (const r of rs) expect([201, 409]).toContain(r.status);
    const st = await stockOf(s.dbUrl, ltd.id);
    const [held] = await q(s.dbUrl, "SELECT coalesce(sum(qty), 0)::int AS n FROM catalog.reservations WHERE product_id = $1 AND status <> 'released'", [
      ltd.id,
    ]);
    return { ok, st, held: held.n as number };
  }
  it('with the switch, more units are sold than exist and stock is not conserved', async () => {
    const { ok, st, held } = await scenario(true);
    expect(ok).toBeGreaterThan(10);
    expect(held).toBeGreaterThan(st.initial);
    expect(st.available + st.reserved + st.sold).not.toBe(held + st.available);
  });
  it('without it, exactly the stock is sold and stock is conserved', async () => {
    const { ok, st, held } = await scenario(false);
    expect(ok).toBe(10);
    expect(held).toBe(10);
    expect(st.available).toBe(0);
    expect(st.available + st.reserved + st.sold).toBe(st.initial);
  });
});

describe('consume-before-commit', () => {
  // The stock commit of a confirmed order fails (catalog answers 503 on the
  // commit route) while the consumer handles order.confirmed; then the fault ends.
  async function scenario(bug: boolean) {
    const s = await withShop(bug ? 'consume-before-commit' : undefined, {
      settings: { clientTimeoutMs: 500, clientRetries: 1, breakerThreshold: 50, pollMs: 100 },
    });
    const token = await login(s.gatewayUrl);
    const mug = await productBySku(s.gatewayUrl, 'MUG-001');
    const before = await stockOf(s.dbUrl, mug.id);
    const catalog = instanceUrl(s, 'catalog-0');
    const orders = instanceUrl(s, 'orders-0');
    const fault = await api(catalog, 'POST', '/__admin/faults', { body: { route: '/reservations/:orderId/commit', kind: 'abort', status: 503 } });
    expect(fault.status).toBe(201);
    const r = await checkout(s.gatewayUrl, token, [{ productId: mug.id, qty: 1 }]);
    expect(r.status).toBe(201);
    // The fault lands in the window: the consumer handled the event and its commit failed.
    const failed = await waitFor(async () => (await metric(orders, 'inbox_messages_total', { result: 'failed' })) >= 1, 10_000, 50);
    expect(failed).toBe(true);
    expect((await api(catalog, 'DELETE', `/__admin/faults/${fault.body.id}`)).status).toBe(200);
    // Redelivered after the fault: committed, or skipped as already handled.
    await waitFor(
      async () => {
        const [res] = await q(s.dbUrl, 'SELECT status FROM catalog.reservations WHERE order_id = $1', [r.body.orderId]);
        return res.status === 'committed' || (await metric(orders, 'inbox_messages_total', { result: 'duplicate' })) >= 1;
      },
      15_000,
      100,
    );
    const [res] = await q(s.dbUrl, 'SELECT status FROM catalog.reservations WHERE order_id = $1', [r.body.orderId]);
    const [o] = await q(s.dbUrl, 'SELECT status FROM orders.orders WHERE id = $1', [r.body.orderId]);
    const inbox = await q(
      s.dbUrl,
      "SELECT 1 FROM orders.inbox i JOIN orders.outbox o ON o.id = i.message_id WHERE o.aggregate_id = $1 AND o.topic = 'order.confirmed'",
      [r.body.orderId],
    );
    return { reservation: res.status as string, order: o.status as string, inbox: inbox.length, before, after: await stockOf(s.dbUrl, mug.id) };
  }
  it('with the switch, the redelivered event is skipped as handled: a confirmed order keeps its stock reserved', async () => {
    const r = await scenario(true);
    expect(r.order).toBe('confirmed');
    expect(r.inbox).toBe(1);
    expect(r.reservation).toBe('reserved');
    expect(r.after).toMatchObject({ reserved: r.before.reserved + 1, sold: r.before.sold });
  });
  it('without it, the redelivery commits the stock', async () => {
    const r = await scenario(false);
    expect(r.order).toBe('confirmed');
    expect(r.inbox).toBe(1);
    expect(r.reservation).toBe('committed');
    expect(r.after).toMatchObject({ reserved: r.before.reserved, sold: r.before.sold + 1 });
  });
});

describe('confirm-outside-tx', () => {
  // The confirmation's write of the order.confirmed event is held (the test
  // locks orders.outbox against inserts), then its Postgres connection is
  // killed: a failure landing between confirming the order and publishing it.
  async function scenario(bug: boolean) {
    const s = await withShop(bug ? 'confirm-outside-tx' : undefined, { settings: { sagaDeadlineMs: 3000, pollMs: 100 } });
    const token = await login(s.gatewayUrl);
    const mug = await productBySku(s.gatewayUrl, 'MUG-002');
    const before = await stockOf(s.dbUrl, mug.id);
    const locker = new pg.Client({ connectionString: s.dbUrl });
    await locker.connect();
    let answer: Awaited<ReturnType<typeof checkout>>;
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE orders.outbox IN SHARE MODE');
      const pending = checkout(s.gatewayUrl, token, [{ productId: mug.id, qty: 1 }]);
      const blocked = `FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query ILIKE 'insert into "orders"."outbox"%'`;
      const waiting = await waitFor(async () => (await q(s.dbUrl, `SELECT 1 ${blocked}`)).length > 0, 10_000, 20);
      expect(waiting).toBe(true);
      const killed = await q(s.dbUrl, `SELECT pg_terminate_backend(pid) AS ok ${blocked}`);
      expect(killed.length).toBeGreaterThanOrEqual(1);
      await locker.query('COMMIT');
      answer = await pending;
    } finally {
      await locker.end();
    }
    const [{ id: orderId }] = await q(s.dbUrl, 'SELECT id::text FROM orders.orders ORDER BY created_at DESC LIMIT 1');
    // Past the saga deadline the sweeper drives a saga that stopped progressing (several deadlines' worth).
    await waitFor(
      async () => {
        const [sg] = await q(s.dbUrl, 'SELECT state FROM orders.sagas WHERE order_id = $1', [orderId]);
        const [res] = await q(s.dbUrl, 'SELECT status FROM catalog.reservations WHERE order_id = $1', [orderId]);
        return sg.state === 'completed' && res.status === 'committed';
      },
      15_000,
      100,
    );
    const [row] = await q(s.dbUrl, 'SELECT o.status, s.state FROM orders.orders o JOIN orders.sagas s ON s.order_id = o.id WHERE o.id = $1', [orderId]);
    const events = await q(s.dbUrl, "SELECT published_at FROM orders.outbox WHERE aggregate_id = $1 AND topic = 'order.confirmed'", [orderId]);
    const [res] = await q(s.dbUrl, 'SELECT status FROM catalog.reservations WHERE order_id = $1', [orderId]);
    return { answer, row, events: events.length, reservation: res.status as string, before, after: await stockOf(s.dbUrl, mug.id) };
  }
  it('with the switch, an acknowledged, confirmed order never publishes its event: saga stuck, stock reserved', async () => {
    const r = await scenario(true);
    expect(r.answer.status).toBe(201);
    expect(r.row).toEqual({ status: 'confirmed', state: 'payment_captured' });
    expect(r.events).toBe(0);
    expect(r.reservation).toBe('reserved');
    expect(r.after).toMatchObject({ reserved: r.before.reserved + 1, sold: r.before.sold });
  });
  it('without it, the failed confirmation rolls back whole and the sweeper completes it', async () => {
    const r = await scenario(false);
    expect(r.answer.status).not.toBe(201);
    expect(r.row).toEqual({ status: 'confirmed', state: 'completed' });
    expect(r.events).toBe(1);
    expect(r.reservation).toBe('committed');
    expect(r.after).toMatchObject({ reserved: r.before.reserved, sold: r.before.sold + 1 });
  });
});
