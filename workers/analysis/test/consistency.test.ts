/**
 * The invariants against a real shop database (shop/migrations), populated
 * by hand: a clean baseline must pass every check, and each bug switch's
 * footprint must fail the right invariant with its ids as evidence.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { dropShopDatabase, migrateShop } from '../../../shop/db/index.js';
import { captureConsistencyBaseline, checkConsistency, isSettled } from '../consistency.js';
import type { THistoryEventLike } from '../types.js';

const url = `postgres://postgres@127.0.0.1:5432/fl_cons_${randomBytes(5).toString('hex')}`;
let db: pg.Client;
const T0 = Date.now() - 60_000;
const T1 = Date.now() + 60_000;

beforeAll(async () => {
  await migrateShop(url);
  db = new pg.Client({ connectionString: url });
  await db.connect();
});

afterAll(async () => {
  await db?.end();
  await dropShopDatabase(url);
});

beforeEach(async () => {
  await db.query(`TRUNCATE catalog.reservations, catalog.stock, catalog.products, orders.sagas, orders.order_events, orders.outbox, orders.orders,
                  payments.refunds, payments.payments, payments.idempotency CASCADE`);
  // two products, 10 units each
  await db.query(`INSERT INTO catalog.products (id, sku, name, price_cents) VALUES (1, 'A', 'a', 500), (2, 'B', 'b', 700)`);
  // order 100: confirmed, 2×A sold; order 101: cancelled, 1×B released, charged then refunded
  await db.query(`INSERT INTO catalog.stock (product_id, initial, available, reserved, sold) VALUES (1, 10, 8, 0, 2), (2, 10, 10, 0, 0)`);
  await db.query(`INSERT INTO orders.orders (id, user_id, idempotency_key, request_hash, status, total_cents, items) VALUES
    (100, 1, 'k100', 'h', 'confirmed', 1000, '[{"productId":"1","qty":2}]'),
    (101, 1, 'k101', 'h', 'cancelled', 700, '[{"productId":"2","qty":1}]')`);
  await db.query(
    `INSERT INTO catalog.reservations (id, order_id, product_id, qty, status) VALUES (1000, 100, 1, 2, 'committed'), (1001, 101, 2, 1, 'released')`,
  );
  await db.query(`INSERT INTO orders.sagas (order_id, state, step, deadline_at) VALUES (100, 'completed', 'done', now()), (101, 'compensated', 'done', now())`);
  await db.query(
    `INSERT INTO payments.payments (id, order_id, idempotency_key, amount_cents, status) VALUES (500, 100, 'p100', 1000, 'captured'), (501, 101, 'p101', 700, 'refunded')`,
  );
  await db.query(`INSERT INTO payments.refunds (id, payment_id, order_id, amount_cents, idempotency_key) VALUES (600, 501, 101, 700, 'r101')`);
  await db.query(`INSERT INTO orders.outbox (id, topic, aggregate_id, payload, published_at) VALUES (700, 'order.confirmed', 100, '{}', now())`);
});

const ev = (index: number, type: THistoryEventLike['type'], f: string, process: number, value: THistoryEventLike['value']): THistoryEventLike => ({
  index,
  type,
  f,
  process,
  time: Date.now(),
  value,
});

/** Client saw 100 confirmed (1000 cents) and 101 confirmed then cancelled. */
const cleanHistory: THistoryEventLike[] = [
  ev(0, 'invoke', 'checkout', 1, { idempotencyKey: 'k100' }),
  ev(1, 'ok', 'checkout', 1, { status: 201, orderId: '100', totalCents: 1000 }),
  ev(2, 'invoke', 'checkout', 2, { idempotencyKey: 'k101' }),
  ev(3, 'ok', 'checkout', 2, { status: 201, orderId: '101', totalCents: 700 }),
  ev(4, 'invoke', 'cancel', 2, { orderId: '101' }),
  ev(5, 'ok', 'cancel', 2, { status: 200, orderId: '101' }),
];

async function check(history: THistoryEventLike[] = cleanHistory) {
  const r = await checkConsistency(url, { history, runStart: T0, runEnd: T1 });
  return { ...r, byName: Object.fromEntries(r.invariants.map((i) => [i.name, i])) };
}

describe('consistency invariants on the shop database', () => {
  it('a consistent shop passes every invariant', async () => {
    const r = await check();
    expect(r.invariants.map((i) => [i.name, i.pass, i.error ?? null])).toEqual([
      ['stock-conserved', true, null],
      ['stock-non-negative', true, null],
      ['payment-exactly-once', true, null],
      ['no-charge-without-order', true, null],
      ['acknowledged-orders-exist', true, null],
      ['saga-terminal', true, null],
      ['refunds-match-cancellations', true, null],
      ['outbox-drained', true, null],
      ['history-consistent', true, null],
    ]);
    expect(r.byName['acknowledged-orders-exist'].checked).toBe(2);
    expect(r.byName['stock-conserved'].checked).toBe(2);
  });

  it('double-charge: two captures for one order, with both payment ids', async () => {
    await db.query(`INSERT INTO payments.payments (id, order_id, idempotency_key, amount_cents, status) VALUES (502, 100, 'p100-retry', 1000, 'captured')`);
    const r = await check();
    const v = r.byName['payment-exactly-once'];
    expect(v.pass).toBe(false);
    expect(v.violations).toHaveLength(1);
    expect(v.violations[0]).toMatchObject({ kind: 'double-capture', ids: ['100', '500', '502'] });
    expect(v.violations[0].message).toMatch(/charged 2 times/);
    expect(r.byName['stock-conserved'].pass).toBe(true);
  });

  it('missing-compensation: a failed order keeps its reservation and stock', async () => {
    await db.query(
      `INSERT INTO orders.orders (id, user_id, idempotency_key, request_hash, status, total_cents, items) VALUES (102, 1, 'k102', 'h', 'cancelled', 500, '[]')`,
    );
    await db.query(`INSERT INTO catalog.reservations (id, order_id, product_id, qty, status) VALUES (1002, 102, 1, 1, 'reserved')`);
    await db.query(`UPDATE catalog.stock SET available = 7, reserved = 1 WHERE product_id = 1`);
    await db.query(`INSERT INTO orders.sagas (order_id, state, step, deadline_at) VALUES (102, 'compensated', 'done', now())`);
    const r = await check();
    const v = r.byName['stock-conserved'];
    expect(v.pass).toBe(false);
    expect(v.violations.map((x) => x.kind)).toEqual(['reservation-not-released']);
    expect(v.violations[0].ids).toEqual(['1002', '102', '1']);
    expect(v.violations[0].message).toMatch(/order 102 is cancelled/);
  });

  it('oversell: negative stock and more taken than there was', async () => {
    await db.query(`UPDATE catalog.stock SET available = -1, sold = 11 WHERE product_id = 2`);
    await db.query(
      `INSERT INTO orders.orders (id, user_id, idempotency_key, request_hash, status, total_cents, items) VALUES (103, 1, 'k103', 'h', 'confirmed', 7700, '[]')`,
    );
    await db.query(`INSERT INTO catalog.reservations (id, order_id, product_id, qty, status) VALUES (1003, 103, 2, 11, 'committed')`);
    const r = await check();
    const v = r.byName['stock-non-negative'];
    expect(v.pass).toBe(false);
    expect(v.violations.map((x) => x.kind).sort()).toEqual(['negative-stock', 'oversold']);
    expect(v.violations.find((x) => x.kind === 'negative-stock')?.rows[0]).toMatchObject({ product_id: '2', available: -1 });
    // order 103 has no payment: the exactly-once check notices too
    expect(r.byName['payment-exactly-once'].violations.map((x) => x.kind)).toEqual(['confirmed-without-capture']);
  });

  it('lost-ack: an acknowledged order that does not exist, with the client events', async () => {
    const history = [
      ...cleanHistory,
      ev(6, 'invoke', 'checkout', 3, { idempotencyKey: 'k999' }),
      ev(7, 'ok', 'checkout', 3, { status: 201, orderId: '999', totalCents: 500 }),
    ];
    const r = await check(history);
    const v = r.byName['acknowledged-orders-exist'];
    expect(v.pass).toBe(false);
    expect(v.violations[0]).toMatchObject({ kind: 'lost-ack', ids: ['999', 'k999'] });
    expect(v.violations[0].events).toHaveLength(2);
  });

  it('lost-ack: acknowledged as confirmed, the write-behind never landed and the sweeper failed the order', async () => {
    await db.query(
      `INSERT INTO orders.orders (id, user_id, idempotency_key, request_hash, status, total_cents, items) VALUES (107, 1, 'k107', 'h', 'failed', 500, '[]')`,
    );
    await db.query(`INSERT INTO orders.sagas (order_id, state, step, deadline_at) VALUES (107, 'compensated', 'done', now())`);
    const history = [
      ...cleanHistory,
      ev(6, 'invoke', 'checkout', 3, { idempotencyKey: 'k107' }),
      ev(7, 'ok', 'checkout', 3, { status: 201, orderId: '107', totalCents: 500 }),
    ];
    const r = await check(history);
    const v = r.byName['acknowledged-orders-exist'];
    expect(v.violations.map((x) => [x.kind, x.ids])).toEqual([['lost-ack', ['107', 'k107']]]);
    expect(v.violations[0].message).toMatch(/order 107 is failed/);
    expect(r.byName['history-consistent'].pass).toBe(true);
  });

  it('history: failed-but-confirmed, unknown orders, info ops recovered or not', async () => {
    await db.query(
      `INSERT INTO orders.orders (id, user_id, idempotency_key, request_hash, status, total_cents, items) VALUES (104, 1, 'stranger', 'h', 'failed', 0, '[]')`,
    );
    const history = [
      ...cleanHistory,
      ev(6, 'invoke', 'checkout', 3, { idempotencyKey: 'k100' }),
      ev(7, 'fail', 'checkout', 3, { status: 503 }),
      ev(8, 'invoke', 'checkout', 4, { idempotencyKey: 'k101' }),
      ev(9, 'info', 'checkout', 4, { error: 'timeout' }),
      ev(10, 'invoke', 'checkout', 5, { idempotencyKey: 'k-never' }),
      ev(11, 'info', 'checkout', 5, { error: 'timeout' }),
    ];
    const r = await check(history);
    const v = r.byName['history-consistent'];
    expect(v.violations.map((x) => x.kind).sort()).toEqual(['failed-but-confirmed', 'unknown-order']);
    expect(v.violations.find((x) => x.kind === 'unknown-order')?.ids).toEqual(['104']);
    expect(r.infoOps.map((o) => [o.idempotencyKey, o.recovered, o.finalStatus])).toEqual([
      ['k101', true, 'cancelled'],
      ['k-never', false, null],
    ]);
  });

  it('sagas stuck, unpublished outbox, cancelled but not refunded', async () => {
    await db.query(
      `INSERT INTO orders.orders (id, user_id, idempotency_key, request_hash, status, total_cents, items) VALUES (105, 1, 'k105', 'h', 'pending', 500, '[]'), (106, 1, 'k106', 'h', 'cancelled', 500, '[]')`,
    );
    await db.query(
      `INSERT INTO orders.sagas (order_id, state, step, deadline_at) VALUES (105, 'payment_captured', 'confirm', now()), (106, 'compensated', 'done', now())`,
    );
    await db.query(`INSERT INTO payments.payments (id, order_id, idempotency_key, amount_cents, status) VALUES (503, 106, 'p106', 500, 'captured')`);
    await db.query(`INSERT INTO orders.outbox (id, topic, aggregate_id, payload) VALUES (701, 'order.cancelled', 106, '{}')`);
    const r = await check([]);
    expect(r.byName['saga-terminal'].violations.map((x) => x.kind).sort()).toEqual(['order-pending', 'saga-not-terminal']);
    expect(r.byName['outbox-drained'].violations[0].ids).toEqual(['701', '106']);
    const refunds = r.byName['refunds-match-cancellations'];
    expect(refunds.violations).toHaveLength(1);
    expect(refunds.violations[0].message).toMatch(/cancelled order 106: charged 500, refunded 0/);
    // an empty history cannot judge acknowledged orders: vacuous, not failing
    expect(r.byName['acknowledged-orders-exist']).toMatchObject({ pass: true, checked: 0 });
  });

  it('a missing schema fails the invariant with the error, never passes silently', async () => {
    const other = `postgres://postgres@127.0.0.1:5432/postgres`;
    const r = await checkConsistency(other, { invariants: ['outbox-drained'], history: [], runStart: T0, runEnd: T1 });
    expect(r.invariants).toHaveLength(1);
    expect(r.invariants[0].pass).toBe(false);
    expect(r.invariants[0].error).toMatch(/orders\.outbox|does not exist/);
  });
});

describe('runs judged on themselves: baseline and settling', () => {
  it('isSettled names what is still in flight, and is settled on a finished shop', async () => {
    expect(await isSettled(url)).toEqual({ settled: true, detail: 'settled' });
    await db.query(`INSERT INTO orders.orders (id, user_id, idempotency_key, request_hash, status, total_cents, items) VALUES
      (110, 1, 'k110', 'h', 'pending', 500, '[]'), (111, 1, 'k111', 'h', 'pending', 500, '[]'), (112, 1, 'k112', 'h', 'cancelled', 500, '[]')`);
    await db.query(
      `INSERT INTO orders.sagas (order_id, state, step, deadline_at) VALUES (110, 'started', 'reserve', now()), (111, 'stock_reserved', 'charge', now()), (112, 'compensated', 'done', now())`,
    );
    await db.query(`INSERT INTO orders.outbox (id, topic, aggregate_id, payload) VALUES (710, 'order.cancelled', 112, '{}')`);
    // 110's reservation is live but its order is still pending: in flight, counted by its saga, not as a leak
    await db.query(
      `INSERT INTO catalog.reservations (id, order_id, product_id, qty, status) VALUES (1010, 110, 1, 1, 'reserved'), (1012, 112, 2, 1, 'reserved')`,
    );
    expect(await isSettled(url)).toEqual({
      settled: false,
      detail: '2 sagas in flight, 1 outbox row unpublished, 1 reservation still held for finished orders',
    });
    await db.query(`UPDATE orders.sagas SET state = 'compensated' WHERE order_id IN (110, 111)`);
    await db.query(`UPDATE orders.outbox SET published_at = now()`);
    await db.query(`UPDATE catalog.reservations SET status = 'released' WHERE id IN (1010, 1012)`);
    expect(await isSettled(url)).toEqual({ settled: true, detail: 'settled' });
  });

  it('isSettled does not wait for what was already stuck before the run (given its baseline)', async () => {
    // an earlier experiment leaked a reservation and left a saga the sweeper could not finish
    await db.query(`INSERT INTO orders.orders (id, user_id, idempotency_key, request_hash, status, total_cents, items) VALUES
      (113, 1, 'k113', 'h', 'cancelled', 500, '[]'), (114, 1, 'k114', 'h', 'pending', 500, '[]')`);
    await db.query(
      `INSERT INTO orders.sagas (order_id, state, step, deadline_at) VALUES (113, 'compensated', 'done', now()), (114, 'compensating', 'release', now())`,
    );
    await db.query(`INSERT INTO catalog.reservations (id, order_id, product_id, qty, status) VALUES (1013, 113, 1, 1, 'reserved')`);
    await db.query(`UPDATE catalog.stock SET available = 7, reserved = 1 WHERE product_id = 1`);
    const baseline = await captureConsistencyBaseline(url);
    expect(await isSettled(url)).toEqual({ settled: false, detail: '1 saga in flight, 1 reservation still held for finished orders' });
    expect(await isSettled(url, { baseline })).toEqual({ settled: true, detail: 'settled' });
    // this run's own work in flight is still waited for
    await db.query(
      `INSERT INTO orders.orders (id, user_id, idempotency_key, request_hash, status, total_cents, items) VALUES (115, 1, 'k115', 'h', 'pending', 500, '[]')`,
    );
    await db.query(`INSERT INTO orders.sagas (order_id, state, step, deadline_at) VALUES (115, 'started', 'reserve', now())`);
    expect(await isSettled(url, { baseline })).toEqual({ settled: false, detail: '1 saga in flight' });
  });

  it('isSettled rejects when the shop database has no shop schema', async () => {
    await expect(isSettled('postgres://postgres@127.0.0.1:5432/postgres')).rejects.toThrow(/orders\.sagas|does not exist/);
  });

  it('a finding that existed before the run is pre-existing and does not fail it; a new one does', async () => {
    // left behind by an earlier experiment of the gate: order 100 charged twice
    await db.query(`INSERT INTO payments.payments (id, order_id, idempotency_key, amount_cents, status) VALUES (502, 100, 'p100-retry', 1000, 'captured')`);
    const baseline = await captureConsistencyBaseline(url);
    expect(baseline.errors).toEqual([]);
    expect(baseline.findings).toEqual([{ invariant: 'payment-exactly-once', kind: 'double-capture', key: 'order 100', measure: 2 }]);

    // this run: a cancelled order keeps its reservation
    await db.query(
      `INSERT INTO orders.orders (id, user_id, idempotency_key, request_hash, status, total_cents, items) VALUES (102, 1, 'k102', 'h', 'cancelled', 500, '[]')`,
    );
    await db.query(`INSERT INTO catalog.reservations (id, order_id, product_id, qty, status) VALUES (1002, 102, 1, 1, 'reserved')`);
    await db.query(`UPDATE catalog.stock SET available = 7, reserved = 1 WHERE product_id = 1`);
    await db.query(`INSERT INTO orders.sagas (order_id, state, step, deadline_at) VALUES (102, 'compensated', 'done', now())`);

    const r = await checkConsistency(url, { history: cleanHistory, runStart: T0, runEnd: T1, baseline });
    const by = Object.fromEntries(r.invariants.map((i) => [i.name, i]));
    expect(by['payment-exactly-once']).toMatchObject({ pass: true, preExisting: 1 });
    expect(by['payment-exactly-once'].violations.map((v) => [v.kind, v.preExisting])).toEqual([['double-capture', true]]);
    expect(by['stock-conserved']).toMatchObject({ pass: false, preExisting: 0 });
    expect(by['stock-conserved'].violations.map((v) => [v.kind, v.preExisting ?? false])).toEqual([['reservation-not-released', false]]);

    // without the baseline the old finding fails the run as before
    const plainRun = await checkConsistency(url, { history: cleanHistory, runStart: T0, runEnd: T1 });
    expect(plainRun.invariants.find((i) => i.name === 'payment-exactly-once')?.pass).toBe(false);
  });

  it('a pre-existing finding this run made worse is new', async () => {
    await db.query(`INSERT INTO payments.payments (id, order_id, idempotency_key, amount_cents, status) VALUES (502, 100, 'p100-retry', 1000, 'captured')`);
    const baseline = await captureConsistencyBaseline(url);
    await db.query(`INSERT INTO payments.payments (id, order_id, idempotency_key, amount_cents, status) VALUES (503, 100, 'p100-again', 1000, 'captured')`);
    const r = await checkConsistency(url, { invariants: ['payment-exactly-once'], history: [], runStart: T0, runEnd: T1, baseline });
    expect(r.invariants[0]).toMatchObject({ pass: false, preExisting: 0 });
    expect(r.invariants[0].violations[0]).toMatchObject({ kind: 'double-capture', ids: ['100', '500', '502', '503'] });
    expect(r.invariants[0].violations[0].preExisting).toBeUndefined();
  });

  it('a pre-existing finding that is gone after the run simply disappears', async () => {
    await db.query(`INSERT INTO orders.outbox (id, topic, aggregate_id, payload) VALUES (711, 'order.confirmed', 100, '{}')`);
    const baseline = await captureConsistencyBaseline(url);
    expect(baseline.findings.map((f) => [f.invariant, f.key])).toEqual([['outbox-drained', 'outbox 711']]);
    await db.query(`UPDATE orders.outbox SET published_at = now() WHERE id = 711`);
    const r = await checkConsistency(url, { invariants: ['outbox-drained'], history: [], runStart: T0, runEnd: T1, baseline });
    expect(r.invariants[0]).toMatchObject({ pass: true, preExisting: 0, violations: [] });
  });
});
