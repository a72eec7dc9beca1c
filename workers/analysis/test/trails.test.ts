/**
 * Violations that explain themselves: against a real shop database and a
 * real Postgres log store, each violation names the orders behind it and
 * carries their trail (saga, status changes, outbox, reservations,
 * payments with keys, log lines across services), in time order.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../../db/testing.js';
import { dropShopDatabase, migrateShop } from '../../../shop/db/index.js';
import { PostgresLogStore } from '../../logstore/index.js';
import path from 'node:path';
import { EXPERIMENTS_DIR, loadExperimentFile, type TInvariantName } from '../../../experiments/index.js';
import { renderJunit, renderSummary } from '../../reports/index.js';
import { analyseRun } from '../analyse-run.js';
import { captureConsistencyBaseline, checkConsistency } from '../consistency.js';
import { buildTrail, subjectsOf, TRAIL_LIMIT } from '../trace-violations.js';

const url = `postgres://postgres@127.0.0.1:5432/fl_trail_${randomBytes(5).toString('hex')}`;
let db: pg.Client;
let platform: Awaited<ReturnType<typeof createTestDatabase>>;
let logs: PostgresLogStore;
const T = Date.parse('2026-03-01T12:00:00Z');
const at = (ms: number) => new Date(T + ms).toISOString();
const window = { from: T - 60_000, to: T + 600_000 };

beforeAll(async () => {
  await migrateShop(url);
  db = new pg.Client({ connectionString: url });
  await db.connect();
  platform = await createTestDatabase();
  logs = new PostgresLogStore(platform.db);
});

afterAll(async () => {
  await db?.end();
  await dropShopDatabase(url);
  await platform?.drop();
});

beforeEach(async () => {
  await db.query(`TRUNCATE catalog.reservations, catalog.stock, catalog.products, orders.sagas, orders.order_events, orders.outbox, orders.orders,
                  payments.refunds, payments.payments, payments.idempotency CASCADE`);
  await db.query(`INSERT INTO catalog.products (id, sku, name, price_cents) VALUES (1, 'A', 'a', 500), (2, 'B', 'b', 700)`);
  await db.query(`INSERT INTO catalog.stock (product_id, initial, available, reserved, sold) VALUES (1, 10, 10, 0, 0), (2, 10, 10, 0, 0)`);
});

describe('violation trails', () => {
  it('stock leak: the counters finding names the failed order, and its trail tells the story across tables and services', async () => {
    // order 120 failed as invalid_items; its reservation of product 1 was never released
    await db.query(
      `INSERT INTO orders.orders (id, user_id, idempotency_key, request_hash, status, total_cents, items, failure_reason, created_at, updated_at)
                    VALUES (120, 1, 'co-120', 'h', 'failed', 500, '[{"productId":"1","qty":1}]', 'invalid_items', $1, $2)`,
      [at(0), at(2600)],
    );
    await db.query(`INSERT INTO orders.order_events (order_id, from_status, to_status, at) VALUES (120, NULL, 'pending', $1), (120, 'pending', 'failed', $2)`, [
      at(1),
      at(2600),
    ]);
    await db.query(`INSERT INTO orders.sagas (order_id, state, step, deadline_at, updated_at) VALUES (120, 'failed', 'done', $1, $2)`, [at(30_000), at(2601)]);
    await db.query(`INSERT INTO orders.outbox (id, topic, aggregate_id, payload, created_at, published_at) VALUES (720, 'order.failed', 120, '{}', $1, $2)`, [
      at(2602),
      at(2650),
    ]);
    await db.query(
      `INSERT INTO catalog.reservations (id, order_id, product_id, qty, status, created_at, updated_at) VALUES (1020, 120, 1, 1, 'reserved', $1, $1)`,
      [at(2100)],
    );
    // the counters lost track too: reserved says 2 where one live reservation exists
    await db.query(`UPDATE catalog.stock SET available = 8, reserved = 2 WHERE product_id = 1`);
    await logs.writeBatch([
      {
        time: new Date(T + 2000),
        level: 'warn',
        service: 'orders',
        instance: 'orders-0',
        msg: 'stock reservation failed',
        fields: { orderId: '120', err: 'timeout after 2000 ms' },
      },
      {
        time: new Date(T + 2500),
        level: 'warn',
        service: 'orders',
        instance: 'orders-1',
        msg: 'stock reservation failed',
        fields: { orderId: '120', err: '409 reservation_released' },
      },
      { time: new Date(T + 2550), level: 'info', service: 'catalog', instance: 'catalog-0', msg: 'reservation committed late', fields: { orderId: '120' } },
      { time: new Date(T + 2560), level: 'info', service: 'orders', instance: 'orders-0', msg: 'unrelated order', fields: { orderId: '121' } },
      // another run's line about the same id, long before: outside the window
      { time: new Date(T - 3_600_000), level: 'error', service: 'orders', instance: 'orders-0', msg: 'old run', fields: { orderId: '120' } },
    ]);

    const r = await checkConsistency(url, { invariants: ['stock-conserved'], history: [], runStart: T, runEnd: T + 10_000, trail: { logs, window } });
    const inv = r.invariants[0]!;
    expect(inv.pass).toBe(false);
    const ledger = inv.violations.find((v) => v.kind === 'stock-ledger-mismatch')!;
    // the cause is named: the product AND the order whose reservation disagrees with it
    expect(ledger.message).toBe(
      'product 1: counters say reserved 2 / sold 0, reservations say 1 / 0; inconsistent reservations: order 120 (reservation 1020: 1 × reserved, order failed: invalid_items)',
    );
    expect(ledger.ids).toEqual(['1', '120']);
    const leak = inv.violations.find((v) => v.kind === 'reservation-not-released')!;
    expect(leak.message).toMatch(/order 120 is failed \(invalid_items\)/);

    const lines = leak.trail!.map((e) => `${e.at?.slice(11, 23)} ${e.source} ${e.text}`);
    expect(lines).toEqual([
      '12:00:00.000 orders.orders order 120 created: 500 cents, key co-120',
      '12:00:00.001 orders.order_events order 120: ∅ → pending',
      '12:00:02.000 log orders-0 warn: stock reservation failed (err=timeout after 2000 ms)',
      '12:00:02.100 catalog.reservations reservation 1020: 1 × product 1 reserved for order 120',
      '12:00:02.500 log orders-1 warn: stock reservation failed (err=409 reservation_released)',
      '12:00:02.550 log catalog-0 info: reservation committed late',
      '12:00:02.600 orders.orders order 120 is failed: invalid_items',
      '12:00:02.600 orders.order_events order 120: pending → failed',
      '12:00:02.601 orders.sagas saga of order 120 failed (step done, deadline 2026-03-01T12:00:30.000Z)',
      '12:00:02.602 orders.outbox order.failed event 720 for order 120 written, published after 48 ms',
    ]);
    // the product-level finding is traced through the order it names
    expect(ledger.trail!.some((e) => e.source === 'catalog.reservations' && /order 120/.test(e.text))).toBe(true);
  });

  it('double charge: both payments with their idempotency keys, and what the payments service answered for each', async () => {
    await db.query(
      `INSERT INTO orders.orders (id, user_id, idempotency_key, request_hash, status, total_cents, items, created_at, updated_at)
                    VALUES (130, 1, 'co-130', 'h', 'confirmed', 700, '[{"productId":"2","qty":1}]', $1, $2)`,
      [at(0), at(3000)],
    );
    await db.query(
      `INSERT INTO catalog.reservations (id, order_id, product_id, qty, status, created_at, updated_at) VALUES (1030, 130, 2, 1, 'committed', $1, $2)`,
      [at(100), at(2900)],
    );
    await db.query(`UPDATE catalog.stock SET available = 9, sold = 1 WHERE product_id = 2`);
    await db.query(`INSERT INTO orders.sagas (order_id, state, step, deadline_at, updated_at) VALUES (130, 'completed', 'done', $1, $2)`, [
      at(30_000),
      at(3000),
    ]);
    await db.query(
      `INSERT INTO payments.payments (id, order_id, idempotency_key, amount_cents, status, created_at) VALUES
                    (530, 130, 'pay-130', 700, 'captured', $1), (531, 130, 'pay-130-retry1', 700, 'captured', $2)`,
      [at(1200), at(2800)],
    );
    await db.query(
      `INSERT INTO payments.idempotency (key, request_hash, status_code, created_at) VALUES ('pay-130', 'h', 201, $1), ('pay-130-retry1', 'h', 201, $2)`,
      [at(1190), at(2790)],
    );

    const r = await checkConsistency(url, { invariants: ['payment-exactly-once'], history: [], runStart: T, runEnd: T + 10_000, trail: { logs, window } });
    const v = r.invariants[0]!.violations[0]!;
    expect(v.message).toBe('order 130 charged 2 times: payments 530 (key pay-130), 531 (key pay-130-retry1)');
    const texts = v.trail!.map((e) => `${e.source}: ${e.text}`);
    expect(texts).toContain('payments.payments: payment 530 for order 130: 700 cents captured, idempotency key pay-130');
    expect(texts).toContain('payments.payments: payment 531 for order 130: 700 cents captured, idempotency key pay-130-retry1');
    expect(texts).toContain('payments.idempotency: idempotency key pay-130-retry1 recorded, answered 201');
    // ordered by time
    const times = v.trail!.filter((e) => e.at).map((e) => e.at!);
    expect(times).toEqual([...times].sort());
  });

  it('a counter drift no reservation explains names the orders that reserved concurrently', async () => {
    for (const [id, ms] of [
      [140, 0],
      [141, 8],
      [142, 900],
    ] as const) {
      await db.query(
        `INSERT INTO orders.orders (id, user_id, idempotency_key, request_hash, status, total_cents, items) VALUES ($1, 1, $2, 'h', 'confirmed', 500, '[{"productId":"1","qty":1}]')`,
        [id, `co-${id}`],
      );
      await db.query(`INSERT INTO catalog.reservations (id, order_id, product_id, qty, status, created_at) VALUES ($1, $2, 1, 1, 'committed', $3)`, [
        id + 1000,
        id,
        at(ms),
      ]);
    }
    // a lost update: three sold, the counter says two
    await db.query(`UPDATE catalog.stock SET available = 8, sold = 2 WHERE product_id = 1`);
    const r = await checkConsistency(url, { invariants: ['stock-conserved'], history: [], runStart: T, runEnd: T + 10_000 });
    const v = r.invariants[0]!.violations.find((x) => x.kind === 'stock-ledger-mismatch')!;
    expect(v.message).toContain(
      'every reservation of the product agrees with its order, so a counter moved without one: reservations made concurrently (a lost update?): orders 140 and 141 8 ms apart',
    );
    expect(v.ids).toEqual(['1', '140', '141']);
    // no trail asked for: none attached
    expect(v.trail).toBeUndefined();
  });

  it('without a log store the trail holds the rows and says logs were not searched; a broken log store is named', async () => {
    await db.query(
      `INSERT INTO orders.orders (id, user_id, idempotency_key, request_hash, status, total_cents, items) VALUES (150, 1, 'co-150', 'h', 'pending', 500, '[]')`,
    );
    await db.query(`INSERT INTO orders.sagas (order_id, state, step, deadline_at) VALUES (150, 'stock_reserved', 'charge', now())`);
    const plain = await checkConsistency(url, { invariants: ['saga-terminal'], history: [], runStart: T, runEnd: T + 10_000, trail: {} });
    const v = plain.invariants[0]!.violations.find((x) => x.kind === 'saga-not-terminal')!;
    expect(v.message).toMatch(/^saga of order 150 stuck in stock_reserved \(step charge\), last moved .*; order is pending$/);
    expect(v.trail!.map((e) => e.source)).toEqual(['orders.orders', 'orders.sagas', 'trail']);
    expect(v.trail!.at(-1)!.text).toBe('no log store given: log lines not searched');
    const broken = { search: async () => Promise.reject(new Error('connection refused')) };
    const r = await checkConsistency(url, { invariants: ['saga-terminal'], history: [], runStart: T, runEnd: T + 10_000, trail: { logs: broken } });
    expect(r.invariants[0]!.violations[0]!.trail!.at(-1)!.text).toBe('log store not searched: connection refused');
    expect(r.invariants[0]!.pass).toBe(false);
  });
});

describe('analyseRun: a run judged on itself', () => {
  it("an earlier run's double charge is pre-existing; this run's stuck saga fails it with its trail; settling is reported", async () => {
    await db.query(
      `INSERT INTO orders.orders (id, user_id, idempotency_key, request_hash, status, total_cents, items) VALUES (160, 1, 'co-160', 'h', 'confirmed', 700, '[]')`,
    );
    await db.query(`INSERT INTO orders.sagas (order_id, state, step, deadline_at) VALUES (160, 'completed', 'done', now())`);
    await db.query(
      `INSERT INTO payments.payments (id, order_id, idempotency_key, amount_cents, status) VALUES (560, 160, 'p-160', 700, 'captured'), (561, 160, 'p-160-r', 700, 'captured')`,
    );
    const baseline = await captureConsistencyBaseline(url);
    // during the run
    await db.query(
      `INSERT INTO orders.orders (id, user_id, idempotency_key, request_hash, status, total_cents, items) VALUES (161, 1, 'co-161', 'h', 'pending', 500, '[]')`,
    );
    await db.query(`INSERT INTO orders.sagas (order_id, state, step, deadline_at) VALUES (161, 'payment_captured', 'confirm', now())`);
    await logs.writeBatch([
      {
        time: new Date(),
        level: 'error',
        service: 'orders',
        instance: 'orders-0',
        msg: 'deferred confirmation failed',
        fields: { orderId: '161', err: 'connection reset' },
      },
    ]);
    const experiment = await loadExperimentFile(path.join(EXPERIMENTS_DIR, 'payments-latency.yaml'));
    const now = Date.now();
    const report = await analyseRun(
      {
        runId: 'r-trail',
        experiment: { ...experiment, expectations: { ...experiment.expectations, invariants: ['payment-exactly-once', 'saga-terminal'] } },
        loadStart: now - 30_000,
        loadEnd: now - 5_000,
        endedAt: now,
        ended: 'completed',
        engine: 'builtin',
        history: [],
        seconds: [],
        samples: [],
        logs: [],
        faultTimes: [],
        baseline,
        settle: { settled: false, waitedMs: 5_000, maxMs: 5_000, detail: '1 saga in flight' },
      },
      {
        now,
        // the built-in shop checker as the run's checker (a run's is its target file's: target-system)
        consistency: (i) =>
          checkConsistency(url, {
            invariants: i.invariants as TInvariantName[],
            history: i.history,
            runStart: i.loadStart ?? 0,
            runEnd: now,
            ...(i.baseline ? { baseline: i.baseline } : {}),
            trail: { logs, ...(i.window ? { window: i.window } : {}) },
          }),
      },
    );
    const by = Object.fromEntries(report.invariants.map((i) => [i.name, i]));
    expect(by['payment-exactly-once']).toMatchObject({ pass: true, preExisting: 1 });
    expect(by['saga-terminal']!.pass).toBe(false);
    const stuck = by['saga-terminal']!.violations.find((v) => v.kind === 'saga-not-terminal')!;
    expect(stuck.trail!.map((e) => e.source)).toContain('log orders-0');
    expect(report.settle).toEqual({ settled: false, waitedMs: 5_000, maxMs: 5_000, detail: '1 saga in flight' });
    expect(report.baseline).toEqual({ capturedAt: baseline.capturedAt, findings: 1 });
    expect(report.reason).toMatch(/invariant saga-terminal/);
    expect(report.reason).not.toMatch(/payment-exactly-once/);
    const md = renderSummary(report);
    expect(md).toContain('After the load: not settled after 5.0 s (max 5.0 s): 1 saga in flight');
    expect(md).toMatch(/\[log orders-0\] error: deferred confirmation failed \(err=connection reset\)/);
    expect(renderJunit(report)).toMatch(/trail:\n[^]*\[orders\.sagas\] saga of order 161 payment_captured \(step confirm/);
  });
});

describe('buildTrail and subjectsOf (pure)', () => {
  it('keeps rows before log lines when bounded, and says how much it left out', () => {
    const logLines = Array.from({ length: 60 }, (_, i) => ({
      time: T + i,
      level: i === 59 ? 'error' : 'info',
      service: 'orders',
      instance: 'orders-0',
      msg: `line ${i}`,
    }));
    const trail = buildTrail({
      orders: [{ id: '1', idempotency_key: 'k', status: 'failed', total_cents: 5, created_at: new Date(T + 100) }],
      orderEvents: [],
      sagas: [],
      outbox: [],
      reservations: [],
      payments: [],
      refunds: [],
      idempotency: [],
      logs: logLines,
    });
    expect(trail).toHaveLength(TRAIL_LIMIT);
    expect(trail.some((e) => e.source === 'orders.orders')).toBe(true);
    // the error line outranks info lines
    expect(trail.some((e) => e.text === 'error: line 59')).toBe(true);
    expect(trail.at(-1)).toEqual({ at: null, source: 'trail', text: '22 more step(s) not shown' });
  });

  it('finds the orders and keys of SQL and history violations', () => {
    expect(subjectsOf({ kind: 'double-capture', ids: ['9', '1', '2'], rows: [{ order_id: '9', keys: ['a', 'b'] }], events: [] })).toEqual({
      orders: ['9'],
      terms: [],
    });
    expect(subjectsOf({ kind: 'outbox-pending', ids: ['7', '9'], rows: [{ outbox_id: '7', aggregate_id: '9' }], events: [] })).toEqual({
      orders: ['9'],
      terms: [],
    });
    expect(
      subjectsOf({
        kind: 'lost-ack',
        ids: ['999', 'k999'],
        rows: [],
        events: [
          { type: 'invoke', value: { idempotencyKey: 'k999' } },
          { type: 'ok', value: { orderId: '999' } },
        ],
      }),
    ).toEqual({ orders: ['999'], terms: ['k999'] });
  });
});
