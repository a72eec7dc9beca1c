/**
 * The shop settles soon after a fault ends: a compensation that could not
 * run during the fault is retried with a short capped backoff, not at the
 * saga deadline (SHOP_SAGA_DEADLINE_MS), and a failed stock commit is
 * retried by the consumer the same way.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startTestShop, type TTestShop } from '../testing.js';
import { COMPENSATION_RETRY, EVENT_RETRY, cappedBackoffMs } from '../services/orders/service.js';
import { api, checkout, instanceUrl, login, productBySku, q, stockOf, waitFor } from './helpers.js';

let shop: TTestShop | undefined;
afterEach(async () => {
  await shop?.stop();
  shop = undefined;
});

const DEADLINE_MS = 60_000;

describe('cappedBackoffMs', () => {
  it('grows from half the first delay and never exceeds the cap', () => {
    expect(cappedBackoffMs(1, COMPENSATION_RETRY, () => 0)).toBe(COMPENSATION_RETRY.firstMs / 2);
    expect(cappedBackoffMs(1, COMPENSATION_RETRY, () => 1)).toBe(COMPENSATION_RETRY.firstMs);
    expect(cappedBackoffMs(2, COMPENSATION_RETRY, () => 1)).toBe(COMPENSATION_RETRY.firstMs * 2);
    for (const n of [3, 10, 1000]) expect(cappedBackoffMs(n, COMPENSATION_RETRY, () => 1)).toBe(COMPENSATION_RETRY.maxMs);
    expect(cappedBackoffMs(40, EVENT_RETRY, () => 0.999)).toBeLessThanOrEqual(EVENT_RETRY.maxMs);
  });
});

describe('settling after a fault', () => {
  it('an incomplete compensation is retried within seconds of the fault ending, long before the saga deadline', async () => {
    const s = (shop = await startTestShop({
      settings: { sagaDeadlineMs: DEADLINE_MS, pollMs: 100, clientTimeoutMs: 1000, clientRetries: 1, breakerThreshold: 50 },
    }));
    const token = await login(s.gatewayUrl);
    const big = await productBySku(s.gatewayUrl, 'BIG-TICKET');
    const before = await stockOf(s.dbUrl, big.id);
    const catalog = instanceUrl(s, 'catalog-0');
    const fault = await api(catalog, 'POST', '/__admin/faults', { body: { route: '/reservations/:orderId/release', kind: 'abort', status: 503 } });
    expect(fault.status).toBe(201);

    // Declined (over the payment limit): the release of the compensation hits the fault.
    const r = await checkout(s.gatewayUrl, token, [{ productId: big.id, qty: 2 }]);
    expect(r.status).toBe(409); // still compensating: "in progress"
    const orderId = r.body.orderId as string;
    // Retried during the fault too (each attempt counted in the step).
    const retried = await waitFor(
      async () => {
        const [sg] = await q(s.dbUrl, 'SELECT state, step FROM orders.sagas WHERE order_id = $1', [orderId]);
        return sg.state === 'compensating' && Number(sg.step.split(':')[3]) >= 2;
      },
      20_000,
      100,
    );
    expect(retried).toBe(true);
    expect((await stockOf(s.dbUrl, big.id)).reserved).toBe(before.reserved + 2);

    expect((await api(catalog, 'DELETE', `/__admin/faults/${fault.body.id}`)).status).toBe(200);
    const done = await waitFor(
      async () => {
        const [sg] = await q(s.dbUrl, 'SELECT state FROM orders.sagas WHERE order_id = $1', [orderId]);
        return sg.state === 'compensated';
      },
      DEADLINE_MS / 3,
      100,
    );
    // Bounded at a third of the deadline: the deadline sweep alone could not have done it.
    expect(done).toBe(true);
    const [o] = await q(s.dbUrl, 'SELECT status, failure_reason FROM orders.orders WHERE id = $1', [orderId]);
    expect(o).toEqual({ status: 'cancelled', failure_reason: 'payment_declined' });
    expect(await stockOf(s.dbUrl, big.id)).toEqual(before);
  });

  it('a stock commit that failed during a fault is retried by the consumer once it ends', async () => {
    const s = (shop = await startTestShop({
      settings: { sagaDeadlineMs: DEADLINE_MS, pollMs: 100, clientTimeoutMs: 1000, clientRetries: 1, breakerThreshold: 50 },
    }));
    const token = await login(s.gatewayUrl);
    const mug = await productBySku(s.gatewayUrl, 'MUG-001');
    const before = await stockOf(s.dbUrl, mug.id);
    const catalog = instanceUrl(s, 'catalog-0');
    const fault = await api(catalog, 'POST', '/__admin/faults', { body: { route: '/reservations/:orderId/commit', kind: 'abort', status: 503 } });
    const r = await checkout(s.gatewayUrl, token, [{ productId: mug.id, qty: 1 }]);
    expect(r.status).toBe(201);
    const failing = await waitFor(
      async () => (await q(s.dbUrl, "SELECT 1 FROM catalog.reservations WHERE order_id = $1 AND status = 'reserved'", [r.body.orderId])).length > 0,
      5000,
      50,
    );
    expect(failing).toBe(true);
    await new Promise((res) => setTimeout(res, 3000)); // several consumer attempts fail
    expect((await q(s.dbUrl, 'SELECT status FROM catalog.reservations WHERE order_id = $1', [r.body.orderId]))[0].status).toBe('reserved');
    await api(catalog, 'DELETE', `/__admin/faults/${fault.body.id}`);
    const committed = await waitFor(
      async () => (await q(s.dbUrl, 'SELECT status FROM catalog.reservations WHERE order_id = $1', [r.body.orderId]))[0].status === 'committed',
      15_000,
      100,
    );
    expect(committed).toBe(true);
    expect(await stockOf(s.dbUrl, mug.id)).toMatchObject({ available: before.available - 1, reserved: before.reserved, sold: before.sold + 1 });
  });
});
