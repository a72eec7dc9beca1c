/**
 * Trails from the real shop: with `missing-compensation` on, a checkout
 * whose charge fails (payments answers 503: an HTTP fault) leaks its
 * reservation. The run does not settle, the leak is this run's finding
 * (not in the baseline), and its trail shows the order's rows and the
 * orders service's own log line about the failed charge, read back from a
 * real Postgres log store.
 */
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../../db/testing.js';
import { api, checkout, instanceUrl, login, productBySku } from '../../../shop/test/helpers.js';
import { startTestShop, type TTestShop } from '../../../shop/testing.js';
import { toLogRecord } from '../../collectors/index.js';
import { PostgresLogStore, type TLogRecord } from '../../logstore/index.js';
import { captureConsistencyBaseline, checkConsistency, isSettled } from '../consistency.js';

let shop: TTestShop | undefined;
let platform: Awaited<ReturnType<typeof createTestDatabase>> | undefined;
const lines: TLogRecord[] = [];

beforeAll(async () => {
  platform = await createTestDatabase();
  // the shop's JSON lines, as the log collector would store them
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(toLogRecord({ cursor: 0, instance: 'shop', service: 'shop', line }));
      done();
    },
  });
  // no client retries: one refused charge fails the order at once
  shop = await startTestShop({ bugs: ['missing-compensation'], logLevel: 'info', logDestination: sink as never, settings: { clientRetries: 0 } });
}, 60_000);

afterAll(async () => {
  await shop?.stop();
  await platform?.drop();
});

describe('violation trails on the real shop', () => {
  it('a leaked reservation of an order whose charge failed: not settled, a new finding, traced through rows and the orders log', async () => {
    const s = shop!;
    const baseline = await captureConsistencyBaseline(s.dbUrl);
    expect(baseline.findings).toEqual([]);
    const token = await login(s.gatewayUrl);
    const mug = await productBySku(s.gatewayUrl, 'MUG-001');
    expect((await api(instanceUrl(s, 'payments-0'), 'POST', '/__admin/faults', { body: { kind: 'abort', route: '/charges', status: 503 } })).status).toBe(201);
    const from = Date.now() - 1000;
    const r = await checkout(s.gatewayUrl, token, [{ productId: mug.id, qty: 1 }]);
    expect(r.status).toBe(503);
    const orderId = String(r.body.orderId);

    // poll like the runner does (bounded): the outbox drains, the leaked reservation stays
    let settle = await isSettled(s.dbUrl, { baseline });
    for (let i = 0; i < 100 && settle.detail !== '1 reservation still held for finished orders'; i++) {
      await new Promise((res) => setTimeout(res, 200));
      settle = await isSettled(s.dbUrl, { baseline });
    }
    expect(settle).toEqual({ settled: false, detail: '1 reservation still held for finished orders' });

    const store = new PostgresLogStore(platform!.db);
    await store.writeBatch(lines.splice(0));
    const result = await checkConsistency(s.dbUrl, {
      invariants: ['stock-conserved'],
      history: [],
      runStart: from,
      runEnd: Date.now(),
      baseline,
      trail: { logs: store, window: { from, to: Date.now() + 1000 } },
    });
    const inv = result.invariants[0]!;
    expect(inv).toMatchObject({ pass: false, preExisting: 0 });
    const leak = inv.violations.find((v) => v.kind === 'reservation-not-released')!;
    expect(leak.message).toMatch(new RegExp(`order ${orderId} is failed \\(payment_unavailable\\)`));
    const sources = leak.trail!.map((e) => e.source);
    for (const src of ['orders.orders', 'orders.order_events', 'orders.sagas', 'catalog.reservations']) expect(sources).toContain(src);
    // the orders service said why, and the trail found it by the order id
    expect(leak.trail!.some((e) => e.source.startsWith('log ') && /charge failed; compensating/.test(e.text))).toBe(true);
    const times = leak.trail!.filter((e) => e.at).map((e) => e.at!);
    expect(times).toEqual([...times].sort());
  }, 60_000);
});
