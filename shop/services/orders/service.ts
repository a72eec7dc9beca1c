/**
 * orders: checkout saga orchestrator, order state machine, cancel with
 * refund, deadline sweeper, transactional outbox relayed to BullMQ and an
 * inbox-deduplicated consumer. Owns the `orders` schema.
 *
 *  POST /checkout ─▶ order pending + saga started (one tx, unique (user, Idempotency-Key))
 *     reserve stock ── 409 ─▶ release (an earlier attempt may have reserved) ─▶ order failed (out_of_stock)
 *        │ ok  (saga stock_reserved)
 *     charge ── 402 ─▶ compensate: release            ─▶ order cancelled (payment_declined)
 *        │    └ timeout/5xx/open ─▶ refund + release  ─▶ order failed  (payment_unavailable)
 *        │ ok  (saga payment_captured)
 *     confirm: order confirmed + saga completed + outbox order.confirmed (one tx)
 *        └▶ relay ─▶ BullMQ "order-events" ─▶ consumer (inbox) ─▶ catalog commit
 *
 *  Sweeper: a saga past its deadline is driven to a terminal state
 *  (payment_captured → confirmed; earlier → compensated; compensating → finished).
 *  An incomplete compensation sets its own short deadline (capped backoff,
 *  COMPENSATION_RETRY), so the sweeper retries it within seconds of a fault
 *  ending instead of after SHOP_SAGA_DEADLINE_MS.
 *
 * Files: state.ts (shared context, CAS helpers, answers), saga.ts (steps,
 * compensation, sweeper), routes.ts, outbox.ts (relay), consumer.ts; this
 * file wires them and owns the timers.
 */
import { Queue } from 'bullmq';
import type { TServiceContext } from '../../lib/service-context.js';
import { startConsumer } from './consumer.js';
import { createRelay } from './outbox.js';
import { registerRoutes } from './routes.js';
import { createSweeper, flushConfirms } from './saga.js';
import { ORDER_EVENTS_QUEUE, ordersContext } from './state.js';

export { CheckoutSchema } from './routes.js';
export { COMPENSATION_RETRY, EVENT_RETRY, ORDER_EVENTS_QUEUE, cappedBackoffMs } from './state.js';

/** How long the `lost-ack` bug keeps each acknowledged confirmation in memory before writing it, ms. */
const LOST_ACK_HOLD_MS = 5000;

export async function setup(ctx: TServiceContext) {
  const o = ordersContext(ctx);
  registerRoutes(ctx.app, o);

  const queue = new Queue(ORDER_EVENTS_QUEUE, { connection: ctx.redis(), prefix: ctx.redisPrefix });
  queue.on('error', () => {});
  const relay = createRelay(o, queue);
  const sweep = createSweeper(o);
  const worker = startConsumer(o, ctx.redis(), ctx.redisPrefix);

  const { pollMs } = ctx.settings;
  const timers: NodeJS.Timeout[] = [setInterval(() => void relay(), pollMs), setInterval(() => void sweep(), Math.max(pollMs * 2, 200))];
  // The lost-ack write-behind holds every confirmation 5 s (by age, not on a
  // fixed flush tick): whenever the process dies it loses every order it
  // acknowledged in the last 5 s it was up. A flush tick (300 ms, later 2 s)
  // left the loss to the tick's phase and to how long orders had been up
  // after a restart, and orders-instance-killed missed the bug now and then.
  if (ctx.bugs.has('lost-ack')) timers.push(setInterval(() => void flushConfirms(o, LOST_ACK_HOLD_MS), 250));
  for (const t of timers) t.unref();

  return {
    async stop(graceful: boolean) {
      for (const t of timers) clearInterval(t);
      if (graceful) {
        await flushConfirms(o);
        await relay(true);
      } else {
        o.pendingConfirms.clear();
      }
      await worker.close(!graceful).catch(() => {});
      await queue.close().catch(() => {});
    },
  };
}
