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

/** What the checker found so far: lost acknowledgements, inconsistencies, indeterminate operations, and the counts. */
interface TFindings {
  lost: TViolation[];
  inconsistent: TViolation[];
  infoOps: TInfoOp[];
  acked: number;
  checked: number;
}

/** A violation about one order, with the operation's invoke and completion as its events. */
function orderViolation(kind: string, message: string, order: TOrderRow, op: TOperation, c: THistoryEventLike): TViolation {
  return { kind, message, ids: [order.id], rows: [{ ...order }], events: [...ev(op.invoke), ...ev(c)] };
}

/** The orders the client cancelled (ok) or tried to cancel (info: indeterminate). */
function cancelsOf(ops: readonly TOperation[]): { cancelledByClient: Set<string>; cancelAttempted: Set<string> } {
  const ids = (type: string) => new Set(ops.filter((o) => o.f === 'cancel' && o.completion?.type === type && o.value.orderId).map((o) => o.value.orderId!));
  return { cancelledByClient: ids('ok'), cancelAttempted: ids('info') };
}

/** An acknowledged checkout: its order exists, stays confirmed (unless the client cancelled it) and has the total the client was told. */
function judgeAckedCheckout(op: TOperation, c: THistoryEventLike, order: TOrderRow | undefined, cancels: ReturnType<typeof cancelsOf>, f: TFindings): void {
  f.acked += 1;
  if (!order) {
    f.lost.push({
      kind: 'lost-ack',
      message: `checkout acknowledged to the client (order ${op.value.orderId ?? '?'}) but no such order exists`,
      ids: [op.value.orderId, op.value.idempotencyKey].filter((x): x is string => !!x),
      rows: [],
      events: [...ev(op.invoke), ...ev(c)],
    });
    return;
  }
  // The client was told "confirmed". Any other final state, unless the
  // client itself cancelled (or tried to: an indeterminate cancel), means
  // the acknowledged write did not stick: write-behind lost, or a
  // sweeper undid a confirmed order.
  const cancelled = cancels.cancelledByClient.has(order.id) || cancels.cancelAttempted.has(order.id);
  if (order.status !== 'confirmed' && !(order.status === 'cancelled' && cancelled))
    f.lost.push({
      kind: 'lost-ack',
      message: `checkout acknowledged as confirmed to the client, but order ${order.id} is ${order.status}`,
      ids: [order.id, op.value.idempotencyKey].filter((x): x is string => !!x),
      rows: [{ ...order }],
      events: [...ev(op.invoke), ...ev(c)],
    });
  else if (order.status === 'confirmed' && cancels.cancelledByClient.has(order.id)) {
    // reported by the cancel operation
  } else if (op.value.totalCents !== undefined && op.value.totalCents !== order.total_cents)
    f.inconsistent.push(
      orderViolation('total-mismatch', `client was told ${op.value.totalCents} cents for order ${order.id}, the order says ${order.total_cents}`, order, op, c),
    );
}

/** A completed checkout: acknowledged (see above), failed (no confirmed order may carry its key) or indeterminate (recovered or not). */
function judgeCheckout(op: TOperation, c: THistoryEventLike, order: TOrderRow | undefined, cancels: ReturnType<typeof cancelsOf>, f: TFindings): void {
  f.checked += 1;
  if (c.type === 'ok') judgeAckedCheckout(op, c, order, cancels, f);
  else if (c.type === 'fail') {
    if (order && order.status === 'confirmed')
      f.inconsistent.push(
        orderViolation(
          'failed-but-confirmed',
          `checkout failed for the client (status ${c.value.status ?? '?'}) but order ${order.id} is confirmed`,
          order,
          op,
          c,
        ),
      );
  } else {
    f.infoOps.push({
      f: op.f,
      idempotencyKey: op.value.idempotencyKey ?? null,
      time: c.time,
      recovered: !!order,
      finalStatus: order?.status ?? null,
      orderId: order?.id ?? null,
      error: c.value.error ?? null,
    });
  }
}

/** A completed cancel: acknowledged ones must have cancelled their order; indeterminate ones are reported as recovered or not. */
function judgeCancel(op: TOperation, c: THistoryEventLike, byId: ReadonlyMap<string, TOrderRow>, f: TFindings): void {
  if (c.type === 'ok' && op.value.orderId) {
    f.checked += 1;
    const order = byId.get(op.value.orderId);
    if (order && order.status !== 'cancelled')
      f.inconsistent.push(orderViolation('cancel-not-applied', `cancel of order ${order.id} acknowledged, the order is ${order.status}`, order, op, c));
  } else if (c.type === 'info') {
    const order = op.value.orderId ? byId.get(op.value.orderId) : undefined;
    f.infoOps.push({
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

/** Orders created during the run with a key the client never sent. */
function unknownOrders(ops: readonly TOperation[], runOrders: readonly TOrderRow[]): TViolation[] {
  const sentKeys = new Set(ops.filter((o) => o.f === 'checkout' && o.value.idempotencyKey).map((o) => o.value.idempotencyKey!));
  // Without checkout invokes the history cannot tell known from unknown.
  if (sentKeys.size === 0) return [];
  return runOrders
    .filter((o) => !sentKeys.has(o.idempotency_key))
    .map((o) => ({
      kind: 'unknown-order',
      message: `order ${o.id} was created during the run with key ${o.idempotency_key}, which the client never sent`,
      ids: [o.id],
      rows: [{ ...o }],
      events: [],
    }));
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
  const cancels = cancelsOf(ops);
  const f: TFindings = { lost: [], inconsistent: [], infoOps: [], acked: 0, checked: 0 };
  for (const op of ops) {
    const c = op.completion;
    if (!c) continue;
    if (op.f === 'checkout') judgeCheckout(op, c, find(op.value), cancels, f);
    else if (op.f === 'cancel') judgeCancel(op, c, byId, f);
  }
  f.inconsistent.push(...unknownOrders(ops, runOrders));
  return {
    ackedExist: {
      name: 'acknowledged-orders-exist',
      description: ACKED_DESCRIPTION,
      pass: f.lost.length === 0,
      checked: f.acked,
      violations: f.lost,
    },
    consistent: {
      name: 'history-consistent',
      description: HISTORY_DESCRIPTION,
      pass: f.inconsistent.length === 0,
      checked: f.checked,
      violations: f.inconsistent,
    },
    infoOps: f.infoOps,
  };
}
