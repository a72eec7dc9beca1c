/**
 * orders: checkout saga orchestrator, order state machine, cancel with
 * refund, deadline sweeper, transactional outbox relayed to BullMQ and an
 * inbox-deduplicated consumer. Owns the `orders` schema.
 *
 *  POST /checkout ─▶ order pending + saga started (one tx, unique (user, Idempotency-Key))
 *     reserve stock ── 409 ─────────────────────────────▶ order failed (out_of_stock)
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
 *  Every saga step is a compare-and-set on sagas.state, so a live request and
 *  the sweeper never both apply the same transition.
 */
import { createHash } from 'node:crypto';
import { and, asc, eq, inArray, isNull, notInArray, sql } from 'drizzle-orm';
import { z } from 'zod';
import { Queue, Worker, type Job } from 'bullmq';
import { shopSchema as s, type TShopDb } from '../../db/index.js';
import type { TOrderItem } from '../../db/schema/orders.js';
import { ShopError, parseWith } from '../../lib/errors.js';
import { CallError, DEPENDENCY_FAILURE_HEADER } from '../../lib/client.js';
import { bounded, type TServiceContext } from '../../lib/runtime.js';

const Id = z.string().regex(/^\d{1,20}$/, 'expected a numeric id string');
export const CheckoutSchema = z.object({
  items: z
    .array(z.object({ productId: Id, qty: z.number().int().min(1).max(100) }))
    .min(1)
    .max(20)
    .refine((items) => new Set(items.map((i) => i.productId)).size === items.length, 'each product at most once'),
});

export const ORDER_EVENTS_QUEUE = 'order-events';
const TERMINAL = ['completed', 'compensated', 'failed'];
const CONSUMER = 'stock-commit';

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

type TTx = Parameters<Parameters<TShopDb['transaction']>[0]>[0];
type TOrderRow = typeof s.orders.$inferSelect;
type TFinal = 'cancelled' | 'failed';

/** What the client gets for an order in a given state (also the replay of a repeated checkout). */
function answerFor(o: TOrderRow): { status: number; body: unknown } {
  const ok = { orderId: o.id, status: o.status, totalCents: o.totalCents };
  if (o.status === 'confirmed' || (o.status === 'cancelled' && o.failureReason === 'cancelled_by_user')) return { status: 201, body: ok };
  if (o.status === 'pending') return { status: 409, body: { error: { code: 'idempotency_key_in_flight', message: `checkout ${o.id} is still in progress` }, orderId: o.id } };
  return failureAnswer(o.id, o.status, o.failureReason ?? 'failed');
}

/** The answer for an order that failed (or is failing) for `reason`. */
function failureAnswer(orderId: string, status: string, reason: string): { status: number; body: unknown } {
  const code = reason === 'payment_declined' ? 402 : reason === 'out_of_stock' ? 409 : reason === 'invalid_items' ? 422 : 503;
  return { status: code, body: { error: { code: reason, message: `order ${orderId} ${status}: ${reason.replace(/_/g, ' ')}` }, orderId } };
}

function userId(headers: Record<string, unknown>): string {
  const v = headers['x-user-id'];
  if (typeof v !== 'string' || !/^\d{1,20}$/.test(v)) throw new ShopError(401, 'unauthenticated', 'missing caller identity (x-user-id)');
  return v;
}

export async function setup(ctx: TServiceContext) {
  const { app, log, metrics, settings } = ctx;
  const db = ctx.db();
  const catalog = ctx.client('catalog');
  const payments = ctx.client('payments');
  const svc = { service: ctx.service };

  // ---------- state machine helpers ----------

  /** CAS on sagas.state; returns false when another actor moved the saga first. */
  async function advance(orderId: string, from: string[], to: string, tx: TTx | TShopDb = db, patch: { step?: string; deadlineAt?: Date } = {}): Promise<string | null> {
    const rows = await tx
      .update(s.sagas)
      .set({ state: to, updatedAt: new Date(), ...patch })
      .where(and(eq(s.sagas.orderId, orderId), inArray(s.sagas.state, from)))
      .returning({ orderId: s.sagas.orderId });
    if (!rows[0]) return null;
    // The previous state is one of `from`; when there are several we label by the set.
    metrics.sagaTransitions.inc({ ...svc, from: from.length === 1 ? from[0] : from.join('|'), to });
    return to;
  }

  /** CAS on orders.status plus its order_events row, in one statement (a row lock orders concurrent writers). */
  async function setOrderStatus(tx: TTx, orderId: string, from: string[], to: string, reason: string | null = null): Promise<boolean> {
    const r = await tx.execute(sql`
      WITH prev AS (SELECT id, status FROM orders.orders WHERE id = ${orderId} FOR UPDATE),
      upd AS (
        UPDATE orders.orders o SET status = ${to}, failure_reason = ${reason}, updated_at = now()
        FROM prev WHERE o.id = prev.id AND prev.status IN (${sql.join(from.map((f) => sql`${f}`), sql`, `)})
        RETURNING prev.status AS from_status)
      INSERT INTO orders.order_events (order_id, from_status, to_status)
      SELECT ${orderId}, from_status, ${to} FROM upd
      RETURNING from_status`);
    return r.rows.length > 0;
  }

  async function emit(tx: TTx, topic: string, orderId: string, payload: Record<string, unknown>) {
    await tx.insert(s.outbox).values({ id: ctx.nextId(), topic, aggregateId: orderId, payload: { orderId, ...payload } });
  }

  async function loadOrder(orderId: string): Promise<TOrderRow | undefined> {
    const [o] = await db.select().from(s.orders).where(eq(s.orders.id, orderId));
    return o;
  }

  // ---------- saga steps ----------

  /** Confirm after a captured payment: order, saga and outbox event in one transaction. */
  async function confirm(order: { id: string; totalCents: number; items: TOrderItem[] }): Promise<boolean> {
    if (ctx.bugs.has('confirm-outside-tx')) {
      // BUG (confirm-outside-tx): the order is confirmed (and the client told so)
      // in its own statement; the saga completion and the order.confirmed event
      // follow in a later transaction whose failure is only logged. An order
      // already confirmed counts as done, so the sweeper never repairs the rest.
      if (!(await db.transaction((tx) => setOrderStatus(tx, order.id, ['pending'], 'confirmed')))) return false;
      try {
        await db.transaction(async (tx) => {
          if (!(await advance(order.id, ['payment_captured'], 'completed', tx))) return;
          await emit(tx, 'order.confirmed', order.id, { totalCents: order.totalCents, items: order.items });
        });
      } catch (e) {
        log.error({ orderId: order.id, err: (e as Error).message }, 'confirmation follow-up failed');
      }
      return true;
    }
    return db.transaction(async (tx) => {
      if (!(await advance(order.id, ['payment_captured'], 'completed', tx))) return false;
      await setOrderStatus(tx, order.id, ['pending'], 'confirmed');
      await emit(tx, 'order.confirmed', order.id, { totalCents: order.totalCents, items: order.items });
      return true;
    });
  }

  /**
   * Undo a checkout (or perform a cancel): refund any capture, release the
   * stock, then mark the order. Returns false when a step could not run now
   * (the saga stays `compensating`; the sweeper retries it after the deadline).
   */
  async function compensate(orderId: string, final: TFinal, reason: string, opts: { refund: boolean }): Promise<boolean> {
    await advance(orderId, ['started', 'stock_reserved', 'payment_captured', 'completed'], 'compensating', db, {
      step: `compensate:${final}:${reason}`,
      deadlineAt: new Date(Date.now() + settings.sagaDeadlineMs),
    });
    try {
      if (opts.refund) {
        const r = await payments.call({ method: 'POST', path: '/refunds', body: { orderId }, headers: { 'idempotency-key': `refund-${orderId}` }, idempotent: true });
        // 404: nothing was captured, nothing to refund.
        if (r.status !== 201 && r.status !== 404) throw new Error(`refund answered ${r.status}`);
      }
      if (ctx.bugs.has('missing-compensation')) {
        // BUG (missing-compensation): the reservation is never released: stock leaks.
      } else {
        const o = await loadOrder(orderId);
        const r = await catalog.call({ method: 'POST', path: `/reservations/${orderId}/release`, body: { productIds: (o?.items ?? []).map((i) => i.productId) }, idempotent: true });
        if (r.status !== 200) throw new Error(`release answered ${r.status}`);
      }
    } catch (e) {
      const retryInMs = await scheduleCompensationRetry(orderId);
      log.warn({ orderId, err: (e as Error).message, retryInMs }, 'compensation incomplete; the sweeper will retry');
      return false;
    }
    return db.transaction(async (tx) => {
      if (!(await advance(orderId, ['compensating'], 'compensated', tx))) return false;
      await setOrderStatus(tx, orderId, ['pending', 'confirmed'], final, reason);
      await emit(tx, final === 'cancelled' ? 'order.cancelled' : 'order.failed', orderId, { reason });
      return true;
    });
  }

  /**
   * Bring a compensating saga's deadline forward to its next retry; the attempt
   * count rides in `step` (`compensate:<final>:<reason>:<n>`). Returns the delay,
   * or null when it could not be written (e.g. Postgres is the fault): the
   * deadline set on entering `compensating` (or the sweeper's lease) stays.
   */
  async function scheduleCompensationRetry(orderId: string): Promise<number | null> {
    try {
      const [row] = await db.select({ step: s.sagas.step }).from(s.sagas).where(and(eq(s.sagas.orderId, orderId), eq(s.sagas.state, 'compensating')));
      if (!row) return null;
      const [kind, final, reason, n] = row.step.split(':');
      if (kind !== 'compensate') return null;
      const attempt = (Number(n) || 0) + 1;
      const ms = cappedBackoffMs(attempt, COMPENSATION_RETRY);
      // CAS on state and step: a concurrent actor that finished or rescheduled it wins.
      await db
        .update(s.sagas)
        .set({ step: `compensate:${final}:${reason}:${attempt}`, deadlineAt: new Date(Date.now() + ms), updatedAt: new Date() })
        .where(and(eq(s.sagas.orderId, orderId), eq(s.sagas.state, 'compensating'), eq(s.sagas.step, row.step)));
      return ms;
    } catch {
      return null;
    }
  }

  // Write-behind confirmations, used only by the `lost-ack` bug switch.
  const pendingConfirms = new Map<string, { id: string; totalCents: number; items: TOrderItem[] }>();
  async function flushConfirms() {
    for (const [id, o] of [...pendingConfirms]) {
      pendingConfirms.delete(id);
      try {
        if (await advance(id, ['stock_reserved'], 'payment_captured')) await confirm(o);
      } catch (e) {
        log.error({ orderId: id, err: (e as Error).message }, 'deferred confirmation failed');
      }
    }
  }

  async function runCheckout(order: { id: string; totalCents: number; items: TOrderItem[] }): Promise<{ status: number; body: unknown }> {
    const items = order.items;
    // 1. reserve stock
    try {
      const r = await catalog.call<{ error?: { code: string; message: string } }>({
        method: 'POST',
        path: '/reservations',
        body: { orderId: order.id, items: items.map((i) => ({ productId: i.productId, qty: i.qty })) },
        idempotent: true,
      });
      if (r.status === 409 || r.status === 404 || r.status === 400) {
        // Refused. This answer is only the last attempt's: an earlier attempt that
        // timed out may still have reserved (or may still be running), so nothing
        // proves the order holds no stock. Release (idempotent; tombstones stop a
        // late attempt) before the order ends failed.
        const code = r.body?.error?.code;
        const reason = code === 'out_of_stock' ? 'out_of_stock' : r.status === 409 ? 'stock_unavailable' : 'invalid_items';
        if (await compensate(order.id, 'failed', reason, { refund: false })) return answerFor((await loadOrder(order.id))!);
        return failureAnswer(order.id, 'failing', reason);
      }
      if (r.status !== 201) throw new Error(`reserve answered ${r.status}`);
    } catch (e) {
      // Unknown whether anything was reserved: release (idempotent) to be sure.
      log.warn({ orderId: order.id, err: (e as Error).message }, 'stock reservation failed');
      await compensate(order.id, 'failed', 'stock_unavailable', { refund: false });
      return { status: 503, body: { error: { code: 'stock_unavailable', message: (e as Error).message }, orderId: order.id } };
    }
    if (!(await advance(order.id, ['started'], 'stock_reserved'))) return answerFor((await loadOrder(order.id))!);

    // 2. charge (idempotent by key, so retried on timeouts and 5xx)
    let charged: { status: number; body: unknown };
    try {
      charged = await payments.call({
        method: 'POST',
        path: '/charges',
        body: { orderId: order.id, amountCents: order.totalCents },
        headers: { 'idempotency-key': `charge-${order.id}` },
        idempotent: true,
      });
    } catch (e) {
      const kind = e instanceof CallError ? e.kind : 'error';
      log.warn({ orderId: order.id, err: (e as Error).message, kind }, 'charge failed; compensating');
      await compensate(order.id, 'failed', 'payment_unavailable', { refund: true });
      return { status: 503, body: { error: { code: 'payment_unavailable', message: (e as Error).message }, orderId: order.id } };
    }
    if (charged.status === 402) {
      await compensate(order.id, 'cancelled', 'payment_declined', { refund: false });
      return answerFor((await loadOrder(order.id))!);
    }
    if (charged.status !== 201) {
      // 409 in flight after our own retry, or an unexpected answer: outcome unknown, undo with a refund.
      await compensate(order.id, 'failed', 'payment_unavailable', { refund: true });
      return { status: 503, body: { error: { code: 'payment_unavailable', message: `charge answered ${charged.status}` }, orderId: order.id } };
    }
    if (ctx.bugs.has('lost-ack')) {
      // BUG (lost-ack): acknowledge first, record later (write-behind). A crash
      // before the flush loses the capture and the confirmation of an order the
      // client was told is confirmed; the sweeper then compensates it.
      pendingConfirms.set(order.id, { id: order.id, totalCents: order.totalCents, items });
      return { status: 201, body: { orderId: order.id, status: 'confirmed', totalCents: order.totalCents } };
    }
    if (!(await advance(order.id, ['stock_reserved'], 'payment_captured'))) {
      // The sweeper compensated meanwhile: our capture landed late and must be refunded.
      await compensate(order.id, 'failed', 'deadline', { refund: true });
      return answerFor((await loadOrder(order.id))!);
    }

    // 3. confirm
    if (await confirm(order)) return { status: 201, body: { orderId: order.id, status: 'confirmed', totalCents: order.totalCents } };
    return answerFor((await loadOrder(order.id))!);
  }

  // ---------- routes ----------

  app.post('/checkout', async (req, reply) => {
    const user = userId(req.headers);
    const rawKey = req.headers['idempotency-key'];
    const key = Array.isArray(rawKey) ? rawKey[0] : rawKey;
    if (!key) throw new ShopError(400, 'idempotency_key_required', 'header Idempotency-Key is required');
    if (key.length > 255) throw new ShopError(400, 'invalid_request', 'header Idempotency-Key: at most 255 characters');
    const body = parseWith(CheckoutSchema, req.body);
    const requestHash = createHash('sha256')
      .update(JSON.stringify([...body.items].sort((a, b) => a.productId.localeCompare(b.productId))))
      .digest('hex');

    const replay = async (): Promise<boolean> => {
      const [o] = await db.select().from(s.orders).where(and(eq(s.orders.userId, user), eq(s.orders.idempotencyKey, key)));
      if (!o) return false;
      if (o.requestHash !== requestHash) throw new ShopError(422, 'idempotency_key_reused', `Idempotency-Key ${key} was used with a different request body`);
      const a = answerFor(o);
      if (a.status >= 500) reply.header(DEPENDENCY_FAILURE_HEADER, 'true');
      reply.header('idempotent-replayed', 'true').status(a.status).send(a.body);
      return true;
    };
    if (await replay()) return reply;

    // Prices come from the catalog (a read: retried, falls back to its cache there).
    let products: { id: string; priceCents: number }[];
    try {
      const ids = body.items.map((i) => i.productId).join(',');
      const r = await catalog.call<{ products: { id: string; priceCents: number }[] }>({ method: 'GET', path: `/products?ids=${ids}`, idempotent: true });
      if (r.status !== 200) throw new Error(`catalog answered ${r.status}`);
      products = r.body.products;
    } catch (e) {
      throw new ShopError(503, 'catalog_unavailable', `cannot price the order: ${(e as Error).message}`, { [DEPENDENCY_FAILURE_HEADER]: 'true' });
    }
    const priced: TOrderItem[] = body.items.map((i, n) => {
      const p = products.find((x) => x.id === i.productId);
      if (!p) throw new ShopError(404, 'product_not_found', `body.items.${n}.productId: product ${i.productId} does not exist`);
      return { productId: i.productId, qty: i.qty, priceCents: p.priceCents };
    });
    const totalCents = priced.reduce((a, i) => a + i.qty * i.priceCents, 0);

    const orderId = ctx.nextId();
    // Order, saga and first event in one statement: atomic without a multi-round-trip transaction.
    const deadline = new Date(Date.now() + settings.sagaDeadlineMs);
    const ins = await db.execute<{ id: string }>(sql`
      WITH o AS (
        INSERT INTO orders.orders (id, user_id, idempotency_key, request_hash, status, total_cents, items)
        VALUES (${orderId}, ${user}, ${key}, ${requestHash}, 'pending', ${totalCents}, ${JSON.stringify(priced)}::jsonb)
        ON CONFLICT (user_id, idempotency_key) DO NOTHING
        RETURNING id),
      sg AS (INSERT INTO orders.sagas (order_id, state, step, deadline_at) SELECT id, 'started', 'checkout', ${deadline.toISOString()}::timestamptz FROM o),
      ev AS (INSERT INTO orders.order_events (order_id, from_status, to_status) SELECT id, NULL, 'pending' FROM o)
      SELECT id::text FROM o`);
    const created = ins.rows[0] ? { id: orderId, totalCents, items: priced } : undefined;
    if (!created) {
      // A concurrent request with the same key won the insert.
      if (await replay()) return reply;
      throw new ShopError(409, 'idempotency_key_in_flight', `checkout with Idempotency-Key ${key} is in flight`);
    }
    metrics.sagaTransitions.inc({ ...svc, from: 'none', to: 'started' });
    const a = await runCheckout(created);
    if (a.status >= 500) reply.header(DEPENDENCY_FAILURE_HEADER, 'true');
    return reply.status(a.status).send(a.body);
  });

  const view = (o: TOrderRow) => ({
    id: o.id,
    status: o.status,
    totalCents: o.totalCents,
    items: o.items,
    failureReason: o.failureReason,
    createdAt: o.createdAt.toISOString(),
    updatedAt: o.updatedAt.toISOString(),
  });

  app.get('/orders/:id', async (req) => {
    const user = userId(req.headers);
    const { id } = parseWith(z.object({ id: Id }), req.params, 'params');
    const o = await loadOrder(id);
    if (!o || o.userId !== user) throw new ShopError(404, 'not_found', `order ${id} not found`);
    return view(o);
  });

  app.post('/orders/:id/cancel', async (req) => {
    const user = userId(req.headers);
    const { id } = parseWith(z.object({ id: Id }), req.params, 'params');
    const o = await loadOrder(id);
    if (!o || o.userId !== user) throw new ShopError(404, 'not_found', `order ${id} not found`);
    if (o.status !== 'confirmed') throw new ShopError(409, 'not_cancellable', `order ${id} is ${o.status}; only confirmed orders can be cancelled`);
    const [saga] = await db.select().from(s.sagas).where(eq(s.sagas.orderId, id));
    if (saga?.state !== 'completed') throw new ShopError(409, 'not_cancellable', `order ${id} is already being cancelled`);
    const done = await compensate(id, 'cancelled', 'cancelled_by_user', { refund: true });
    if (!done) throw new ShopError(503, 'cancel_incomplete', `order ${id}: refund or stock release unavailable; the cancellation completes in the background`, { [DEPENDENCY_FAILURE_HEADER]: 'true' });
    return view((await loadOrder(id))!);
  });

  // ---------- background: sweeper, outbox relay, consumer ----------

  const timers: NodeJS.Timeout[] = [];
  let sweeping = false;
  async function driveOverdue(row: { order_id: string; state: string; step: string }) {
    const o = await loadOrder(row.order_id);
    if (!o) return;
    if (row.state === 'compensating') {
      const [, final, reason] = row.step.split(':');
      log.info({ orderId: o.id, state: row.state, step: row.step }, 'sweeper: retrying compensation');
      await compensate(o.id, (final as TFinal) || 'failed', reason || 'deadline', { refund: true });
      return;
    }
    log.info({ orderId: o.id, state: row.state }, 'sweeper: saga past its deadline');
    if (row.state === 'payment_captured') await confirm(o);
    else await compensate(o.id, 'failed', 'deadline', { refund: true });
  }

  async function sweep() {
    if (sweeping || ctx.closing) return;
    sweeping = true;
    try {
      // Claim overdue sagas with a fresh lease so other instances skip them.
      const claimed = await db.execute<{ order_id: string; state: string; step: string }>(sql`
        UPDATE orders.sagas SET deadline_at = now() + make_interval(secs => ${settings.sagaDeadlineMs / 1000}), updated_at = now()
        WHERE order_id IN (
          SELECT order_id FROM orders.sagas
          WHERE state NOT IN ('completed','compensated','failed') AND deadline_at < now()
          ORDER BY deadline_at LIMIT 20 FOR UPDATE SKIP LOCKED)
        RETURNING order_id::text, state, step`);
      // A few at a time: after a fault many sagas are due at once, and each may wait on call timeouts.
      const rows = [...claimed.rows];
      const drive = async () => {
        for (let row = rows.shift(); row; row = rows.shift()) {
          try {
            await driveOverdue(row);
          } catch (e) {
            log.warn({ orderId: row.order_id, err: (e as Error).message }, 'sweeper: saga step failed; retried at its next deadline');
          }
        }
      };
      await Promise.all(Array.from({ length: 4 }, drive));
      const [open] = await db.select({ n: sql<number>`count(*)::int` }).from(s.sagas).where(notInArray(s.sagas.state, TERMINAL));
      metrics.sagaOpen.set(svc, open?.n ?? 0);
    } catch (e) {
      log.warn({ err: (e as Error).message }, 'sweeper pass failed');
    } finally {
      sweeping = false;
    }
  }

  const queue = new Queue(ORDER_EVENTS_QUEUE, { connection: ctx.redis(), prefix: ctx.redisPrefix });
  queue.on('error', () => {});
  let relaying = false;
  let lastPendingSample = 0;
  async function samplePending() {
    // Sampled whether or not publishing works: a growing backlog is what a Redis fault looks like.
    if (Date.now() - lastPendingSample < 1000) return;
    lastPendingSample = Date.now();
    try {
      const [p] = await db.select({ n: sql<number>`count(*)::int` }).from(s.outbox).where(isNull(s.outbox.publishedAt));
      metrics.outboxPending.set(svc, p?.n ?? 0);
    } catch {
      // Postgres unreachable: the gauge keeps its last value.
    }
  }

  async function relay(final = false) {
    if (relaying || (ctx.closing && !final)) return;
    relaying = true;
    try {
      await samplePending();
      for (let round = 0; round < 10; round++) {
        const n = await db.transaction(async (tx) => {
          const rows = await tx.select().from(s.outbox).where(isNull(s.outbox.publishedAt)).orderBy(asc(s.outbox.id)).limit(100).for('update', { skipLocked: true });
          if (rows.length === 0) return 0;
          // jobId = message id ("m" prefix: BullMQ refuses all-digit custom ids); a re-publish after a crash is a no-op.
          // Bounded: with Redis unreachable the add would wait in ioredis' offline queue while we
          // hold row locks. If it lands later anyway, the re-publish is a no-op (same jobId).
          await bounded(
            queue.addBulk(
              rows.map((r) => ({
                name: r.topic,
                data: { messageId: r.id, topic: r.topic, aggregateId: r.aggregateId, payload: r.payload },
                opts: { jobId: `m${r.id}`, attempts: EVENT_RETRY.attempts, backoff: { type: 'capped' }, removeOnComplete: { count: 5000 }, removeOnFail: { count: 5000 } },
              })),
            ),
            3000,
          );
          await tx.update(s.outbox).set({ publishedAt: new Date() }).where(inArray(s.outbox.id, rows.map((r) => r.id)));
          for (const r of rows) metrics.outboxPublished.inc({ ...svc, topic: r.topic });
          return rows.length;
        });
        if (n < 100) break;
      }
    } catch (e) {
      log.warn({ err: (e as Error).message }, 'outbox relay pass failed');
    } finally {
      relaying = false;
    }
  }

  /** The effect of an order event: order.confirmed commits the order's reservations. */
  async function commitEffect(topic: string, orderId: string): Promise<void> {
    if (topic !== 'order.confirmed') return;
    const r = await catalog.call({ method: 'POST', path: `/reservations/${orderId}/commit`, idempotent: true });
    if (r.status !== 200) throw new Error(`commit answered ${r.status}`);
  }

  async function consume(job: Job<{ messageId: string; topic: string; aggregateId: string }>) {
    const { messageId, topic, aggregateId } = job.data;
    const [seen] = await db.select().from(s.inbox).where(and(eq(s.inbox.messageId, messageId), eq(s.inbox.consumer, CONSUMER)));
    if (seen) {
      metrics.inboxMessages.inc({ ...svc, consumer: CONSUMER, result: 'duplicate' });
      return { duplicate: true };
    }
    try {
      if (ctx.bugs.has('consume-before-commit')) {
        // BUG (consume-before-commit): the message is recorded as handled before its
        // effect. If the commit then fails, the redelivery finds it in the inbox and
        // skips it: the reservation is never committed.
        const ins = await db.insert(s.inbox).values({ messageId, consumer: CONSUMER }).onConflictDoNothing().returning();
        if (!ins[0]) {
          metrics.inboxMessages.inc({ ...svc, consumer: CONSUMER, result: 'duplicate' });
          return { duplicate: true };
        }
        await commitEffect(topic, aggregateId);
        metrics.inboxMessages.inc({ ...svc, consumer: CONSUMER, result: 'processed' });
        return { duplicate: false };
      }
      await commitEffect(topic, aggregateId);
      const ins = await db.insert(s.inbox).values({ messageId, consumer: CONSUMER }).onConflictDoNothing().returning();
      metrics.inboxMessages.inc({ ...svc, consumer: CONSUMER, result: ins[0] ? 'processed' : 'duplicate' });
      return { duplicate: !ins[0] };
    } catch (e) {
      metrics.inboxMessages.inc({ ...svc, consumer: CONSUMER, result: 'failed' });
      throw e;
    }
  }

  const worker = new Worker(ORDER_EVENTS_QUEUE, consume, {
    connection: ctx.redis(),
    prefix: ctx.redisPrefix,
    concurrency: 8,
    autorun: true,
    // 'capped' jobs (EVENT_RETRY); jobs published before it existed keep BullMQ's built-in 'exponential'.
    settings: { backoffStrategy: (attemptsMade: number) => cappedBackoffMs(attemptsMade, EVENT_RETRY) },
  });
  worker.on('error', () => {});
  worker.on('failed', (job, err) => log.warn({ jobId: job?.id, err: err.message }, 'order event consumer failed; will retry'));

  timers.push(setInterval(() => void relay(), settings.pollMs));
  timers.push(setInterval(() => void sweep(), Math.max(settings.pollMs * 2, 200)));
  if (ctx.bugs.has('lost-ack')) timers.push(setInterval(() => void flushConfirms(), Math.max(settings.pollMs * 2, 300)));
  for (const t of timers) t.unref();

  return {
    async stop(graceful: boolean) {
      for (const t of timers) clearInterval(t);
      if (graceful) {
        await flushConfirms();
        await relay(true);
      } else {
        pendingConfirms.clear();
      }
      await worker.close(!graceful).catch(() => {});
      await queue.close().catch(() => {});
    },
  };
}
