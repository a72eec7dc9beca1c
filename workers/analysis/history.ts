/**
 * The history half of the consistency check (Jepsen's set checker applied to
 * checkouts): what the client saw against the orders that exist after
 * quiescence. Pure: the orders are read elsewhere and passed in.
 *
 * - `ok` checkout: the order must exist and stay confirmed (cancelled only
 *   when the client cancelled it); otherwise the acknowledgement was lost.
 *   Its total must be the one the client was told.
 * - `fail` checkout: definitely did not happen, so no confirmed order may
 *   carry its idempotency key.
 * - `info` checkout: indeterminate; reported as recovered (its order exists)
 *   or not, never a violation by itself.
 * - An order created during the run with a key the client never sent is an
 *   unknown id.
 */
import type { TInfoOp, TInvariantResult, TViolation } from '../reports/schema.js';
import type { THistoryEventLike } from './types.js';

/** An order row as the checker reads it (ids as strings: 64-bit). */
export interface TOrderRow {
  id: string;
  idempotency_key: string;
  status: string;
  total_cents: number;
  created_at: number;
}

/** One operation: an invoke with its completion (same process, next event). */
export interface TOperation {
  f: string;
  process: number;
  invoke: THistoryEventLike;
  completion: THistoryEventLike | null;
  /** Invoke and completion values merged (the completion wins). */
  value: THistoryEventLike['value'];
}

/** Pair invokes with completions the Jepsen way: a process runs one op at a time. */
export function pairOperations(history: readonly THistoryEventLike[]): TOperation[] {
  const sorted = [...history].sort((a, b) => a.index - b.index);
  const open = new Map<number, TOperation>();
  const ops: TOperation[] = [];
  for (const e of sorted) {
    if (e.type === 'invoke') {
      const op: TOperation = { f: e.f, process: e.process, invoke: e, completion: null, value: { ...e.value } };
      open.set(e.process, op);
      ops.push(op);
    } else {
      const op = open.get(e.process);
      if (!op) continue;
      op.completion = e;
      op.value = { ...op.value, ...Object.fromEntries(Object.entries(e.value).filter(([, v]) => v !== undefined)) };
      open.delete(e.process);
    }
  }
  return ops;
}

function ev(e: THistoryEventLike | null): Record<string, unknown>[] {
  return e ? [{ ...e }] : [];
}

export const ACKED_DESCRIPTION = 'every order acknowledged to the client exists after quiescence';
export const HISTORY_DESCRIPTION = 'final order states agree with what the client saw; no unknown orders';

export interface THistoryCheck {
  ackedExist: TInvariantResult;
  consistent: TInvariantResult;
  infoOps: TInfoOp[];
}

/** Idempotency keys of every checkout the client sent (invoked), whatever its outcome. */
export function sentCheckoutKeys(history: readonly THistoryEventLike[]): string[] {
  return [...new Set(history.filter((e) => e.type === 'invoke' && e.f === 'checkout' && e.value.idempotencyKey).map((e) => e.value.idempotencyKey!))];
}

/** Keys and order ids the history mentions (what to read from the orders table). */
export function historyLookups(history: readonly THistoryEventLike[]): { keys: string[]; orderIds: string[] } {
  const keys = new Set<string>();
  const ids = new Set<string>();
  for (const e of history) {
    if (e.value.idempotencyKey) keys.add(e.value.idempotencyKey);
    if (e.value.orderId) ids.add(e.value.orderId);
  }
  return { keys: [...keys], orderIds: [...ids] };
}

/**
 * Check the history against the final orders. `runOrders` are the orders
 * created during the run window (for unknown ids); `orders` those the history
 * refers to by key or id.
 */
export function checkHistory(history: readonly THistoryEventLike[], orders: readonly TOrderRow[], runOrders: readonly TOrderRow[]): THistoryCheck {
  const ops = pairOperations(history);
  const byId = new Map(orders.map((o) => [o.id, o]));
  const byKey = new Map(orders.map((o) => [o.idempotency_key, o]));
  const find = (v: TOperation['value']) => (v.orderId ? byId.get(v.orderId) : undefined) ?? (v.idempotencyKey ? byKey.get(v.idempotencyKey) : undefined);
  const cancelledByClient = new Set(ops.filter((o) => o.f === 'cancel' && o.completion?.type === 'ok' && o.value.orderId).map((o) => o.value.orderId!));
  const cancelAttempted = new Set(ops.filter((o) => o.f === 'cancel' && o.completion?.type === 'info' && o.value.orderId).map((o) => o.value.orderId!));

  const lost: TViolation[] = [];
  const inconsistent: TViolation[] = [];
  const infoOps: TInfoOp[] = [];
  let acked = 0;
  let checked = 0;
  for (const op of ops) {
    const c = op.completion;
    if (!c) continue;
    if (op.f === 'checkout') {
      checked += 1;
      const order = find(op.value);
      if (c.type === 'ok') {
        acked += 1;
        if (!order) {
          lost.push({
            kind: 'lost-ack',
            message: `checkout acknowledged to the client (order ${op.value.orderId ?? '?'}) but no such order exists`,
            ids: [op.value.orderId, op.value.idempotencyKey].filter((x): x is string => !!x),
            rows: [],
            events: [...ev(op.invoke), ...ev(c)],
          });
          continue;
        }
        // The client was told "confirmed". Any other final state, unless the
        // client itself cancelled (or tried to: an indeterminate cancel), means
        // the acknowledged write did not stick: write-behind lost, or a
        // sweeper undid a confirmed order.
        const cancelled = cancelledByClient.has(order.id) || cancelAttempted.has(order.id);
        if (order.status !== 'confirmed' && !(order.status === 'cancelled' && cancelled))
          lost.push({
            kind: 'lost-ack',
            message: `checkout acknowledged as confirmed to the client, but order ${order.id} is ${order.status}`,
            ids: [order.id, op.value.idempotencyKey].filter((x): x is string => !!x),
            rows: [{ ...order }],
            events: [...ev(op.invoke), ...ev(c)],
          });
        else if (order.status === 'confirmed' && cancelledByClient.has(order.id)) {
          // reported by the cancel operation below
        } else if (op.value.totalCents !== undefined && op.value.totalCents !== order.total_cents)
          inconsistent.push({
            kind: 'total-mismatch',
            message: `client was told ${op.value.totalCents} cents for order ${order.id}, the order says ${order.total_cents}`,
            ids: [order.id],
            rows: [{ ...order }],
            events: [...ev(op.invoke), ...ev(c)],
          });
      } else if (c.type === 'fail') {
        if (order && order.status === 'confirmed')
          inconsistent.push({
            kind: 'failed-but-confirmed',
            message: `checkout failed for the client (status ${c.value.status ?? '?'}) but order ${order.id} is confirmed`,
            ids: [order.id],
            rows: [{ ...order }],
            events: [...ev(op.invoke), ...ev(c)],
          });
      } else {
        infoOps.push({
          f: op.f,
          idempotencyKey: op.value.idempotencyKey ?? null,
          time: c.time,
          recovered: !!order,
          finalStatus: order?.status ?? null,
          orderId: order?.id ?? null,
          error: c.value.error ?? null,
        });
      }
    } else if (op.f === 'cancel' && c.type === 'ok' && op.value.orderId) {
      checked += 1;
      const order = byId.get(op.value.orderId);
      if (order && order.status !== 'cancelled')
        inconsistent.push({
          kind: 'cancel-not-applied',
          message: `cancel of order ${order.id} acknowledged, the order is ${order.status}`,
          ids: [order.id],
          rows: [{ ...order }],
          events: [...ev(op.invoke), ...ev(c)],
        });
    } else if (op.f === 'cancel' && c.type === 'info') {
      const order = op.value.orderId ? byId.get(op.value.orderId) : undefined;
      infoOps.push({
        f: op.f,
        idempotencyKey: op.value.idempotencyKey ?? null,
        time: c.time,
        recovered: order?.status === 'cancelled',
        finalStatus: order?.status ?? null,
        orderId: op.value.orderId ?? null,
        error: c.value.error ?? null,
      });
    }
  }
  const sentKeys = new Set(ops.filter((o) => o.f === 'checkout' && o.value.idempotencyKey).map((o) => o.value.idempotencyKey!));
  // Without checkout invokes the history cannot tell known from unknown.
  if (sentKeys.size > 0)
    for (const o of runOrders)
      if (!sentKeys.has(o.idempotency_key))
        inconsistent.push({
          kind: 'unknown-order',
          message: `order ${o.id} was created during the run with key ${o.idempotency_key}, which the client never sent`,
          ids: [o.id],
          rows: [{ ...o }],
          events: [],
        });
  return {
    ackedExist: {
      name: 'acknowledged-orders-exist',
      description: ACKED_DESCRIPTION,
      pass: lost.length === 0,
      checked: acked,
      violations: lost,
    },
    consistent: {
      name: 'history-consistent',
      description: HISTORY_DESCRIPTION,
      pass: inconsistent.length === 0,
      checked,
      violations: inconsistent,
    },
    infoOps,
  };
}
