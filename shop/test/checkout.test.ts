/**
 * The checkout saga against the real Postgres and Redis, through the gateway:
 * happy path, compensation on a declined payment, idempotent retries, cancel
 * with refund, and the public API's error answers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { startTestShop, type TTestShop } from '../testing.js';
import { api, checkout, instanceUrl, login, productBySku, q, stockOf, waitFor } from './helpers.js';

let shop: TTestShop;
let token: string;

beforeAll(async () => {
  shop = await startTestShop();
  token = await login(shop.gatewayUrl);
});
afterAll(async () => {
  await shop?.stop();
});

describe('checkout', () => {
  it('happy checkout confirms the order, captures one payment and moves stock to sold via the outbox', async () => {
    const mug = await productBySku(shop.gatewayUrl, 'MUG-001');
    const before = await stockOf(shop.dbUrl, mug.id);
    const r = await checkout(shop.gatewayUrl, token, [{ productId: mug.id, qty: 3 }]);
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ status: 'confirmed', totalCents: 3 * mug.priceCents });
    expect(r.body.orderId).toMatch(/^\d+$/);
    const orderId: string = r.body.orderId;

    const o = await api(shop.gatewayUrl, 'GET', `/orders/${orderId}`, { token });
    expect(o.status).toBe(200);
    expect(o.body).toMatchObject({ id: orderId, status: 'confirmed', totalCents: 3 * mug.priceCents, items: [{ productId: mug.id, qty: 3 }] });

    const pays = await q(shop.dbUrl, 'SELECT amount_cents, status FROM payments.payments WHERE order_id = $1', [orderId]);
    expect(pays).toEqual([{ amount_cents: 3 * mug.priceCents, status: 'captured' }]);
    const [saga] = await q(shop.dbUrl, 'SELECT state FROM orders.sagas WHERE order_id = $1', [orderId]);
    expect(saga.state).toBe('completed');
    const events = await q(shop.dbUrl, 'SELECT from_status, to_status FROM orders.order_events WHERE order_id = $1 ORDER BY seq', [orderId]);
    expect(events).toEqual([
      { from_status: null, to_status: 'pending' },
      { from_status: 'pending', to_status: 'confirmed' },
    ]);

    // The consumer commits the reservation after the outbox relay published order.confirmed.
    const committed = await waitFor(async () => {
      const [r] = await q(shop.dbUrl, 'SELECT status FROM catalog.reservations WHERE order_id = $1', [orderId]);
      return r?.status === 'committed';
    });
    expect(committed).toBe(true);
    const after = await stockOf(shop.dbUrl, mug.id);
    expect(after).toMatchObject({ available: before.available - 3, reserved: before.reserved, sold: before.sold + 3 });
    const [ob] = await q(shop.dbUrl, "SELECT published_at FROM orders.outbox WHERE aggregate_id = $1 AND topic = 'order.confirmed'", [orderId]);
    expect(ob.published_at).not.toBeNull();
    const inbox = await q(shop.dbUrl, 'SELECT consumer FROM orders.inbox i JOIN orders.outbox o ON o.id = i.message_id WHERE o.aggregate_id = $1', [orderId]);
    expect(inbox).toEqual([{ consumer: 'stock-commit' }]);
  });

  it('a declined payment compensates: order cancelled, stock released, nothing captured (402)', async () => {
    const big = await productBySku(shop.gatewayUrl, 'BIG-TICKET');
    const before = await stockOf(shop.dbUrl, big.id);
    const r = await checkout(shop.gatewayUrl, token, [{ productId: big.id, qty: 2 }]);
    expect(r.status).toBe(402);
    expect(r.body.error.code).toBe('payment_declined');
    const orderId = r.body.orderId;
    const [o] = await q(shop.dbUrl, 'SELECT status, failure_reason FROM orders.orders WHERE id = $1', [orderId]);
    expect(o).toEqual({ status: 'cancelled', failure_reason: 'payment_declined' });
    const [saga] = await q(shop.dbUrl, 'SELECT state FROM orders.sagas WHERE order_id = $1', [orderId]);
    expect(saga.state).toBe('compensated');
    expect(await stockOf(shop.dbUrl, big.id)).toEqual(before);
    const [res] = await q(shop.dbUrl, 'SELECT status FROM catalog.reservations WHERE order_id = $1', [orderId]);
    expect(res.status).toBe('released');
    const captured = await q(shop.dbUrl, "SELECT 1 FROM payments.payments WHERE order_id = $1 AND status = 'captured'", [orderId]);
    expect(captured).toHaveLength(0);
  });

  it('a retried checkout with the same key charges once and replays the answer', async () => {
    const tee = await productBySku(shop.gatewayUrl, 'TEE-001');
    const key = randomUUID();
    const first = await checkout(shop.gatewayUrl, token, [{ productId: tee.id, qty: 1 }], key);
    expect(first.status).toBe(201);
    const again = await checkout(shop.gatewayUrl, token, [{ productId: tee.id, qty: 1 }], key);
    expect(again.status).toBe(201);
    expect(again.body.orderId).toBe(first.body.orderId);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    // Concurrent duplicates: every answer names the same order (or says it is in flight).
    const key2 = randomUUID();
    const many = await Promise.all(Array.from({ length: 5 }, () => checkout(shop.gatewayUrl, token, [{ productId: tee.id, qty: 1 }], key2)));
    const ok = many.filter((m) => m.status === 201);
    expect(ok.length).toBeGreaterThanOrEqual(1);
    expect(new Set(ok.map((m) => m.body.orderId)).size).toBe(1);
    for (const m of many) expect([201, 409]).toContain(m.status);
    for (const id of [first.body.orderId, ok[0].body.orderId]) {
      const pays = await q(shop.dbUrl, 'SELECT 1 FROM payments.payments WHERE order_id = $1', [id]);
      expect(pays).toHaveLength(1);
    }
    const orders = await q(shop.dbUrl, 'SELECT 1 FROM orders.orders WHERE idempotency_key = ANY($1)', [[key, key2]]);
    expect(orders).toHaveLength(2);
    // Same key, another body: 422.
    const reused = await checkout(shop.gatewayUrl, token, [{ productId: tee.id, qty: 2 }], key);
    expect(reused.status).toBe(422);
    expect(reused.body.error.code).toBe('idempotency_key_reused');
  });

  it('cancel refunds the payment and releases the stock; a second cancel is 409', async () => {
    const book = await productBySku(shop.gatewayUrl, 'BOOK-001');
    const before = await stockOf(shop.dbUrl, book.id);
    const r = await checkout(shop.gatewayUrl, token, [{ productId: book.id, qty: 1 }]);
    expect(r.status).toBe(201);
    const c = await api(shop.gatewayUrl, 'POST', `/orders/${r.body.orderId}/cancel`, { token });
    expect(c.status).toBe(200);
    expect(c.body.status).toBe('cancelled');
    const [p] = await q(shop.dbUrl, 'SELECT status, amount_cents FROM payments.payments WHERE order_id = $1', [r.body.orderId]);
    expect(p).toEqual({ status: 'refunded', amount_cents: book.priceCents });
    const refunds = await q(shop.dbUrl, 'SELECT amount_cents FROM payments.refunds WHERE order_id = $1', [r.body.orderId]);
    expect(refunds).toEqual([{ amount_cents: book.priceCents }]);
    // Wait until the outbox consumer has seen order.confirmed, then stock must be back where it started.
    await waitFor(async () => (await q(shop.dbUrl, 'SELECT count(*)::int AS n FROM orders.inbox'))[0].n > 0);
    expect(await stockOf(shop.dbUrl, book.id)).toEqual(before);
    const again = await api(shop.gatewayUrl, 'POST', `/orders/${r.body.orderId}/cancel`, { token });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('not_cancellable');
  });

  it('out of stock is 409 and leaves stock untouched', async () => {
    const ltd = await productBySku(shop.gatewayUrl, 'LIMITED-001');
    const before = await stockOf(shop.dbUrl, ltd.id);
    const r = await checkout(shop.gatewayUrl, token, [{ productId: ltd.id, qty: before.available + 1 }]);
    expect(r.status).toBe(409);
    expect(r.body.error.code).toBe('out_of_stock');
    expect(await stockOf(shop.dbUrl, ltd.id)).toEqual(before);
  });
});

describe('public API errors', () => {
  it('answers bad requests with {error:{code,message}} and the right status', async () => {
    const g = shop.gatewayUrl;
    const mug = await productBySku(g, 'MUG-001');
    const noKey = await api(g, 'POST', '/checkout', { token, body: { items: [{ productId: mug.id, qty: 1 }] } });
    expect(noKey.status).toBe(400);
    expect(noKey.body.error.code).toBe('idempotency_key_required');
    const noAuth = await api(g, 'POST', '/checkout', { key: 'k1', body: { items: [] } });
    expect(noAuth.status).toBe(401);
    const badToken = await api(g, 'POST', '/checkout', { token: 'x'.repeat(43), key: 'k1', body: { items: [] } });
    expect(badToken.status).toBe(401);
    expect(badToken.body.error.code).toBe('invalid_token');
    const badBody = await api(g, 'POST', '/checkout', { token, key: randomUUID(), body: { items: [{ productId: 'abc', qty: 0 }] } });
    expect(badBody.status).toBe(400);
    expect(badBody.body.error.message).toContain('body.items.0.productId');
    expect(badBody.body.error.message).toContain('body.items.0.qty');
    const unknown = await api(g, 'POST', '/checkout', { token, key: randomUUID(), body: { items: [{ productId: '12345', qty: 1 }] } });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('product_not_found');
    const badJson = await fetch(`${g}/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{nope' });
    expect(badJson.status).toBe(400);
    expect((await badJson.json()).error.code).toBe('invalid_request');
    const nf = await api(g, 'GET', '/products/99999');
    expect(nf.status).toBe(404);
    const route = await api(g, 'GET', '/nope');
    expect(route.status).toBe(404);
    expect(route.body.error.code).toBe('not_found');
    const otherUser = await login(g, 'bob@shop.test', 'bob-password');
    const mine = await checkout(g, token, [{ productId: mug.id, qty: 1 }]);
    const theirs = await api(g, 'GET', `/orders/${mine.body.orderId}`, { token: otherUser });
    expect(theirs.status).toBe(404);
  });

  it('registers and logs in users; duplicate email 409, wrong password 401', async () => {
    const g = shop.gatewayUrl;
    const email = `u${Date.now()}@shop.test`;
    const reg = await api(g, 'POST', '/users', { body: { email, password: 'correct horse', name: 'U' } });
    expect(reg.status).toBe(201);
    expect(reg.body).toMatchObject({ email });
    expect(reg.body.id).toMatch(/^\d+$/);
    const dup = await api(g, 'POST', '/users', { body: { email, password: 'correct horse' } });
    expect(dup.status).toBe(409);
    expect(dup.body.error.code).toBe('email_taken');
    const bad = await api(g, 'POST', '/users', { body: { email: 'nope', password: 'x' } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/body\.email.*body\.password/);
    const wrong = await api(g, 'POST', '/login', { body: { email, password: 'wrong horse' } });
    expect(wrong.status).toBe(401);
    const ok = await api(g, 'POST', '/login', { body: { email, password: 'correct horse' } });
    expect(ok.status).toBe(200);
    expect(ok.body.userId).toBe(reg.body.id);
    const [row] = await q(shop.dbUrl, 'SELECT password_hash FROM users.users WHERE email = $1', [email]);
    expect(row.password_hash).toMatch(/^scrypt\$/);
    expect(row.password_hash).not.toContain('correct horse');
  });
});

describe('late saga steps after compensation (the caller timed out, the step still ran)', () => {
  it('a charge landing after its refund voided the order is refused: no orphan capture', async () => {
    const payments = instanceUrl(shop, 'payments-0');
    const orderId = '9000000000000001';
    const refund = await api(payments, 'POST', '/refunds', { key: `refund-${orderId}`, body: { orderId } });
    expect(refund.status).toBe(404);
    const charge = await api(payments, 'POST', '/charges', { key: `charge-${orderId}`, body: { orderId, amountCents: 1000 } });
    expect(charge.status).toBe(409);
    expect(charge.body.error.code).toBe('order_voided');
    const captured = await q(shop.dbUrl, "SELECT 1 FROM payments.payments WHERE order_id = $1 AND status = 'captured'", [orderId]);
    expect(captured).toHaveLength(0);
    // Without a prior void the same charge captures once, and the same key replays it.
    const other = '9000000000000002';
    const c1 = await api(payments, 'POST', '/charges', { key: `charge-${other}`, body: { orderId: other, amountCents: 1000 } });
    const c2 = await api(payments, 'POST', '/charges', { key: `charge-${other}`, body: { orderId: other, amountCents: 1000 } });
    expect([c1.status, c2.status]).toEqual([201, 201]);
    expect(c2.body.id).toBe(c1.body.id);
    const moved = await api(payments, 'POST', '/charges', { key: `charge-${other}`, body: { orderId: other, amountCents: 2000 } });
    expect(moved.status).toBe(422);
  });

  it('a reservation landing after its release is refused: no stock leak', async () => {
    const catalog = instanceUrl(shop, 'catalog-0');
    const mug = await productBySku(shop.gatewayUrl, 'MUG-002');
    const before = await stockOf(shop.dbUrl, mug.id);
    const orderId = '9000000000000003';
    const rel = await api(catalog, 'POST', `/reservations/${orderId}/release`, { body: { productIds: [mug.id] } });
    expect(rel.status).toBe(200);
    const res = await api(catalog, 'POST', '/reservations', { body: { orderId, items: [{ productId: mug.id, qty: 2 }] } });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('reservation_released');
    expect(await stockOf(shop.dbUrl, mug.id)).toEqual(before);
  });
});
