/**
 * The checkout saga: its steps, its compensation and the deadline sweeper.
 * Every step is a compare-and-set on sagas.state (state.ts `advance`), so a
 * live request and the sweeper never both apply the same transition.
 *
 *   reserve ─▶ stock_reserved ─▶ charge ─▶ payment_captured ─▶ confirm ─▶ completed
 *      │ refused / unknown          │ declined / unknown
 *      └──────────────▶ compensating (refund?, release) ─▶ compensated
 *                         │ a step could not run: retry at a short deadline (COMPENSATION_RETRY)
 */
import { and, eq, notInArray, sql } from 'drizzle-orm';
import { shopSchema as s } from '../../db/index.js';
import { CallError } from '../../lib/client.js';
import {
  COMPENSATION_RETRY,
  TERMINAL,
  advance,
  answerFor,
  cappedBackoffMs,
  confirmedAnswer,
  emit,
  failureAnswer,
  loadOrder,
  setOrderStatus,
  type TAnswer,
  type TFinal,
  type TOrderDraft,
  type TOrders,
} from './state.js';

/** Confirm after a captured payment: order, saga and outbox event in one transaction. */
export async function confirm(o: TOrders, order: TOrderDraft): Promise<boolean> {
  if (o.bugs.has('confirm-outside-tx')) {
    // BUG (confirm-outside-tx): the order is confirmed (and the client told so)
    // in its own statement; the saga completion and the order.confirmed event
    // follow in a later transaction whose failure is only logged. An order
    // already confirmed counts as done, so the sweeper never repairs the rest.
    if (!(await o.db.transaction((tx) => setOrderStatus(tx, order.id, ['pending'], 'confirmed')))) return false;
    try {
      await o.db.transaction(async (tx) => {
        if (!(await advance(o, order.id, ['payment_captured'], 'completed', tx))) return;
        await emit(o, tx, 'order.confirmed', order.id, { totalCents: order.totalCents, items: order.items });
      });
    } catch (e) {
      o.log.error({ orderId: order.id, err: (e as Error).message }, 'confirmation follow-up failed');
    }
    return true;
  }
  return o.db.transaction(async (tx) => {
    if (!(await advance(o, order.id, ['payment_captured'], 'completed', tx))) return false;
    await setOrderStatus(tx, order.id, ['pending'], 'confirmed');
    await emit(o, tx, 'order.confirmed', order.id, { totalCents: order.totalCents, items: order.items });
    return true;
  });
}

/**
 * Undo a checkout (or perform a cancel): refund any capture, release the
 * stock, then mark the order. Returns false when a step could not run now
 * (the saga stays `compensating`; the sweeper retries it shortly).
 */
export async function compensate(o: TOrders, orderId: string, final: TFinal, reason: string, opts: { refund: boolean }): Promise<boolean> {
  await advance(o, orderId, ['started', 'stock_reserved', 'payment_captured', 'completed'], 'compensating', o.db, {
    step: `compensate:${final}:${reason}`,
    deadlineAt: new Date(Date.now() + o.settings.sagaDeadlineMs),
  });
  try {
    if (opts.refund) {
      const r = await o.payments.call({
        method: 'POST',
        path: '/refunds',
        body: { orderId },
        headers: { 'idempotency-key': `refund-${orderId}` },
        idempotent: true,
      });
      // 404: nothing was captured, nothing to refund.
      if (r.status !== 201 && r.status !== 404) throw new Error(`refund answered ${r.status}`);
    }
    if (o.bugs.has('missing-compensation')) {
      // BUG (missing-compensation): the reservation is never released: stock leaks.
    } else {
      const order = await loadOrder(o, orderId);
      const r = await o.catalog.call({
        method: 'POST',
        path: `/reservations/${orderId}/release`,
        body: { productIds: (order?.items ?? []).map((i) => i.productId) },
        idempotent: true,
      });
      if (r.status !== 200) throw new Error(`release answered ${r.status}`);
    }
  } catch (e) {
    const retryInMs = await scheduleCompensationRetry(o, orderId);
    o.log.warn({ orderId, err: (e as Error).message, retryInMs }, 'compensation incomplete; the sweeper will retry');
    return false;
  }
  return o.db.transaction(async (tx) => {
    if (!(await advance(o, orderId, ['compensating'], 'compensated', tx))) return false;
    await setOrderStatus(tx, orderId, ['pending', 'confirmed'], final, reason);
    await emit(o, tx, final === 'cancelled' ? 'order.cancelled' : 'order.failed', orderId, { reason });
    return true;
  });
}

/**
 * Bring a compensating saga's deadline forward to its next retry; the attempt
 * count rides in `step` (`compensate:<final>:<reason>:<n>`). Returns the delay,
 * or null when it could not be written (e.g. Postgres is the fault): the
 * deadline set on entering `compensating` (or the sweeper's lease) stays.
 */
async function scheduleCompensationRetry(o: TOrders, orderId: string): Promise<number | null> {
  try {
    const [row] = await o.db
      .select({ step: s.sagas.step })
      .from(s.sagas)
      .where(and(eq(s.sagas.orderId, orderId), eq(s.sagas.state, 'compensating')));
    if (!row) return null;
    const [kind, final, reason, n] = row.step.split(':');
    if (kind !== 'compensate') return null;
    const attempt = (Number(n) || 0) + 1;
    const ms = cappedBackoffMs(attempt, COMPENSATION_RETRY);
    // CAS on state and step: a concurrent actor that finished or rescheduled it wins.
    await o.db
      .update(s.sagas)
      .set({ step: `compensate:${final}:${reason}:${attempt}`, deadlineAt: new Date(Date.now() + ms), updatedAt: new Date() })
      .where(and(eq(s.sagas.orderId, orderId), eq(s.sagas.state, 'compensating'), eq(s.sagas.step, row.step)));
    return ms;
  } catch {
    return null;
  }
}

/** Record the write-behind confirmations of the `lost-ack` bug switch acknowledged at least `olderThanMs` ago (all by default). */
export async function flushConfirms(o: TOrders, olderThanMs = 0): Promise<void> {
  const cutoff = Date.now() - olderThanMs;
  for (const [id, { order, ackedAt }] of [...o.pendingConfirms]) {
    if (ackedAt > cutoff) continue;
    o.pendingConfirms.delete(id);
    try {
      if (await advance(o, id, ['stock_reserved'], 'payment_captured')) await confirm(o, order);
    } catch (e) {
      o.log.error({ orderId: id, err: (e as Error).message }, 'deferred confirmation failed');
    }
  }
}

/** End a saga that provably reserved nothing (a single refused reservation attempt); false if another actor moved it first. */
async function failUnreserved(o: TOrders, orderId: string, reason: string): Promise<boolean> {
  return o.db.transaction(async (tx) => {
    if (!(await advance(o, orderId, ['started'], 'failed', tx))) return false;
    await setOrderStatus(tx, orderId, ['pending'], 'failed', reason);
    await emit(o, tx, 'order.failed', orderId, { reason });
    return true;
  });
}

/** Step 1: reserve the stock. Returns the answer when the saga ends here, else null. */
async function reserveStock(o: TOrders, order: TOrderDraft): Promise<TAnswer | null> {
  try {
    const r = await o.catalog.call<{ error?: { code: string; message: string } }>({
      method: 'POST',
      path: '/reservations',
      body: { orderId: order.id, items: order.items.map((i) => ({ productId: i.productId, qty: i.qty })) },
      idempotent: true,
    });
    if (r.status === 409 || r.status === 404 || r.status === 400) {
      const code = r.body?.error?.code;
      const reason = code === 'out_of_stock' ? 'out_of_stock' : r.status === 409 ? 'stock_unavailable' : 'invalid_items';
      // One attempt, refused: catalog's reservation is atomic, so nothing was reserved.
      if (r.attempts === 1 && (await failUnreserved(o, order.id, reason))) return answerFor((await loadOrder(o, order.id))!);
      // After retries the refusal is only the last attempt's: an earlier attempt that
      // timed out may have reserved (or may still be running), so nothing proves the
      // order holds no stock. Release (idempotent; tombstones stop a late attempt)
      // before the order ends failed.
      if (await compensate(o, order.id, 'failed', reason, { refund: false })) return answerFor((await loadOrder(o, order.id))!);
      return failureAnswer(order.id, 'failing', reason);
    }
    if (r.status !== 201) throw new Error(`reserve answered ${r.status}`);
  } catch (e) {
    // Unknown whether anything was reserved: release (idempotent) to be sure.
    o.log.warn({ orderId: order.id, err: (e as Error).message }, 'stock reservation failed');
    await compensate(o, order.id, 'failed', 'stock_unavailable', { refund: false });
    return { status: 503, body: { error: { code: 'stock_unavailable', message: (e as Error).message }, orderId: order.id } };
  }
  if (!(await advance(o, order.id, ['started'], 'stock_reserved'))) return answerFor((await loadOrder(o, order.id))!);
  return null;
}

/** Step 2: charge (idempotent by key, so retried on timeouts and 5xx). Returns the answer when the saga ends here, else null. */
async function charge(o: TOrders, order: TOrderDraft): Promise<TAnswer | null> {
  let charged: { status: number; body: unknown };
  try {
    charged = await o.payments.call({
      method: 'POST',
      path: '/charges',
      body: { orderId: order.id, amountCents: order.totalCents },
      headers: { 'idempotency-key': `charge-${order.id}` },
      idempotent: true,
    });
  } catch (e) {
    const kind = e instanceof CallError ? e.kind : 'error';
    o.log.warn({ orderId: order.id, err: (e as Error).message, kind }, 'charge failed; compensating');
    await compensate(o, order.id, 'failed', 'payment_unavailable', { refund: true });
    return { status: 503, body: { error: { code: 'payment_unavailable', message: (e as Error).message }, orderId: order.id } };
  }
  if (charged.status === 402) {
    await compensate(o, order.id, 'cancelled', 'payment_declined', { refund: false });
    return answerFor((await loadOrder(o, order.id))!);
  }
  if (charged.status !== 201) {
    // 409 in flight after our own retry, or an unexpected answer: outcome unknown, undo with a refund.
    await compensate(o, order.id, 'failed', 'payment_unavailable', { refund: true });
    return { status: 503, body: { error: { code: 'payment_unavailable', message: `charge answered ${charged.status}` }, orderId: order.id } };
  }
  return null;
}

/** Run the saga of a freshly created order; the answer for the client. */
export async function runCheckout(o: TOrders, order: TOrderDraft): Promise<TAnswer> {
  const reserved = await reserveStock(o, order);
  if (reserved) return reserved;
  const charged = await charge(o, order);
  if (charged) return charged;
  if (o.bugs.has('lost-ack')) {
    // BUG (lost-ack): acknowledge first, record later (write-behind). A crash
    // before the flush loses the capture and the confirmation of an order the
    // client was told is confirmed; the sweeper then compensates it.
    o.pendingConfirms.set(order.id, { order, ackedAt: Date.now() });
    return confirmedAnswer(order);
  }
  if (!(await advance(o, order.id, ['stock_reserved'], 'payment_captured'))) {
    // The sweeper compensated meanwhile: our capture landed late and must be refunded.
    await compensate(o, order.id, 'failed', 'deadline', { refund: true });
    return answerFor((await loadOrder(o, order.id))!);
  }
  // 3. confirm
  if (await confirm(o, order)) return confirmedAnswer(order);
  return answerFor((await loadOrder(o, order.id))!);
}

/** Drive one saga the sweeper claimed (past its deadline, or a compensation due for a retry). */
async function driveOverdue(o: TOrders, row: { order_id: string; state: string; step: string }): Promise<void> {
  const order = await loadOrder(o, row.order_id);
  if (!order) return;
  if (row.state === 'compensating') {
    const [, final, reason] = row.step.split(':');
    o.log.info({ orderId: order.id, state: row.state, step: row.step }, 'sweeper: retrying compensation');
    await compensate(o, order.id, (final as TFinal) || 'failed', reason || 'deadline', { refund: true });
    return;
  }
  o.log.info({ orderId: order.id, state: row.state }, 'sweeper: saga past its deadline');
  if (row.state === 'payment_captured') await confirm(o, order);
  else await compensate(o, order.id, 'failed', 'deadline', { refund: true });
}

/** The sweeper: one pass at a time per instance; claims leased with FOR UPDATE SKIP LOCKED across instances. */
export function createSweeper(o: TOrders): () => Promise<void> {
  let sweeping = false;
  return async function sweep() {
    if (sweeping || o.closing) return;
    sweeping = true;
    try {
      // Claim overdue sagas with a fresh lease so other instances skip them.
      const claimed = await o.db.execute<{ order_id: string; state: string; step: string }>(sql`
        UPDATE orders.sagas SET deadline_at = now() + make_interval(secs => ${o.settings.sagaDeadlineMs / 1000}), updated_at = now()
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
            await driveOverdue(o, row);
          } catch (e) {
            o.log.warn({ orderId: row.order_id, err: (e as Error).message }, 'sweeper: saga step failed; retried at its next deadline');
          }
        }
      };
      await Promise.all(Array.from({ length: 4 }, drive));
      const [open] = await o.db
        .select({ n: sql<number>`count(*)::int` })
        .from(s.sagas)
        .where(notInArray(s.sagas.state, TERMINAL));
      o.metrics.sagaOpen.set(o.svc, open?.n ?? 0);
    } catch (e) {
      o.log.warn({ err: (e as Error).message }, 'sweeper pass failed');
    } finally {
      sweeping = false;
    }
  };
}
