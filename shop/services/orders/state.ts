/**
 * orders' state: the context every part of the service shares, the
 * compare-and-set helpers on sagas and orders, the outbox write, and what a
 * client is answered for an order in a given state.
 */
import { and, eq, inArray, sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import { shopSchema as s, type TShopDb } from '../../db/index.js';
import type { TOrderItem } from '../../db/schema/orders.js';
import type { TShopBug } from '../../config.js';
import type { EdgeClient } from '../../lib/client.js';
import type { TMetrics } from '../../lib/metrics.js';
import type { TServiceContext, TServiceSettings } from '../../lib/service-context.js';

export const ORDER_EVENTS_QUEUE = 'order-events';
export const TERMINAL = ['completed', 'compensated', 'failed'];

/**
 * Retry pacing of an incomplete compensation (refund or release could not run):
 * attempt n waits min(maxMs, firstMs * 2^(n-1)), jittered down to half, so many
 * sagas failed by one fault do not retry in lockstep. Short on purpose: the
 * undo is idempotent and the platform waits for the shop to settle.
 */
export const COMPENSATION_RETRY = { firstMs: 500, maxMs: 2000 } as const;

/**
 * Retry pacing of an order event whose effect failed (e.g. the stock commit
 * while catalog is unreachable): capped exponential with jitter. Attempts are
 * many because a job that runs out of them loses its effect for good; at the
 * cap they span about a day.
 */
export const EVENT_RETRY = { firstMs: 200, maxMs: 2000, attempts: 50_000 } as const;

/** Capped exponential backoff with jitter (half to full delay). */
export function cappedBackoffMs(attempt: number, p: { firstMs: number; maxMs: number }, rand: () => number = Math.random): number {
  const full = Math.min(p.maxMs, p.firstMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(full / 2 + (rand() * full) / 2);
}

export type TTx = Parameters<Parameters<TShopDb['transaction']>[0]>[0];
export type TOrderRow = typeof s.orders.$inferSelect;
export type TFinal = 'cancelled' | 'failed';
export type TOrderDraft = { id: string; totalCents: number; items: TOrderItem[] };
export type TAnswer = { status: number; body: unknown };

/** What the parts of orders share (built once per instance by `ordersContext`). */
export interface TOrders {
  db: TShopDb;
  log: Logger;
  metrics: TMetrics;
  settings: TServiceSettings;
  bugs: ReadonlySet<TShopBug>;
  catalog: EdgeClient;
  payments: EdgeClient;
  nextId: () => string;
  /** Metric labels of this service. */
  svc: { service: string };
  /** Write-behind confirmations and when each was acknowledged (ms), used only by the `lost-ack` bug switch. */
  pendingConfirms: Map<string, { order: TOrderDraft; ackedAt: number }>;
  /** Is the instance shutting down (background loops stop). */
  readonly closing: boolean;
}

export function ordersContext(ctx: TServiceContext): TOrders {
  return {
    db: ctx.db(),
    log: ctx.log,
    metrics: ctx.metrics,
    settings: ctx.settings,
    bugs: ctx.bugs,
    catalog: ctx.client('catalog'),
    payments: ctx.client('payments'),
    nextId: ctx.nextId,
    svc: { service: ctx.service },
    pendingConfirms: new Map(),
    get closing() {
      return ctx.closing;
    },
  };
}

/** CAS on sagas.state; returns null when another actor moved the saga first. */
export async function advance(
  o: TOrders,
  orderId: string,
  from: string[],
  to: string,
  tx: TTx | TShopDb = o.db,
  patch: { step?: string; deadlineAt?: Date } = {},
): Promise<string | null> {
  const rows = await tx
    .update(s.sagas)
    .set({ state: to, updatedAt: new Date(), ...patch })
    .where(and(eq(s.sagas.orderId, orderId), inArray(s.sagas.state, from)))
    .returning({ orderId: s.sagas.orderId });
  if (!rows[0]) return null;
  // The previous state is one of `from`; when there are several we label by the set.
  o.metrics.sagaTransitions.inc({ ...o.svc, from: from.length === 1 ? from[0] : from.join('|'), to });
  return to;
}

/** CAS on orders.status plus its order_events row, in one statement (a row lock orders concurrent writers). */
export async function setOrderStatus(tx: TTx, orderId: string, from: string[], to: string, reason: string | null = null): Promise<boolean> {
  const r = await tx.execute(sql`
    WITH prev AS (SELECT id, status FROM orders.orders WHERE id = ${orderId} FOR UPDATE),
    upd AS (
      UPDATE orders.orders o SET status = ${to}, failure_reason = ${reason}, updated_at = now()
      FROM prev WHERE o.id = prev.id AND prev.status IN (${sql.join(
        from.map((f) => sql`${f}`),
        sql`, `,
      )})
      RETURNING prev.status AS from_status)
    INSERT INTO orders.order_events (order_id, from_status, to_status)
    SELECT ${orderId}, from_status, ${to} FROM upd
    RETURNING from_status`);
  return r.rows.length > 0;
}

/** Write an event to the outbox, in the caller's business transaction. */
export async function emit(o: TOrders, tx: TTx, topic: string, orderId: string, payload: Record<string, unknown>): Promise<void> {
  await tx.insert(s.outbox).values({ id: o.nextId(), topic, aggregateId: orderId, payload: { orderId, ...payload } });
}

export async function loadOrder(o: TOrders, orderId: string): Promise<TOrderRow | undefined> {
  const [row] = await o.db.select().from(s.orders).where(eq(s.orders.id, orderId));
  return row;
}

/** What the client gets for an order in a given state (also the replay of a repeated checkout). */
export function answerFor(o: TOrderRow): TAnswer {
  const ok = { orderId: o.id, status: o.status, totalCents: o.totalCents };
  if (o.status === 'confirmed' || (o.status === 'cancelled' && o.failureReason === 'cancelled_by_user')) return { status: 201, body: ok };
  if (o.status === 'pending')
    return { status: 409, body: { error: { code: 'idempotency_key_in_flight', message: `checkout ${o.id} is still in progress` }, orderId: o.id } };
  return failureAnswer(o.id, o.status, o.failureReason ?? 'failed');
}

/** The answer for an order that failed (or is failing) for `reason`. */
export function failureAnswer(orderId: string, status: string, reason: string): TAnswer {
  const code = reason === 'payment_declined' ? 402 : reason === 'out_of_stock' ? 409 : reason === 'invalid_items' ? 422 : 503;
  return { status: code, body: { error: { code: reason, message: `order ${orderId} ${status}: ${reason.replace(/_/g, ' ')}` }, orderId } };
}

/** The answer of a confirmed checkout. */
export function confirmedAnswer(order: TOrderDraft): TAnswer {
  return { status: 201, body: { orderId: order.id, status: 'confirmed', totalCents: order.totalCents } };
}
