/**
 * Consistency after quiescence: the shop's invariants (DESIGN.md,
 * docs/architecture.md data model) as SQL over the shop database, read in one
 * repeatable-read snapshot, plus the client-history check (history.ts).
 *
 * Each query returns only offending rows; turning rows into violations with
 * evidence is pure (`violationsFor`) so it is tested apart from the I/O.
 * The checker is the only reader allowed across service schemas: it audits,
 * it never writes.
 */
import pg from 'pg';
import { INVARIANT_NAMES, type TInvariantName } from '../../experiments/index.js';
import type { TInfoOp, TInvariantResult, TViolation } from '../reports/schema.js';
import { ACKED_DESCRIPTION, checkHistory, HISTORY_DESCRIPTION, historyLookups, sentCheckoutKeys, type TOrderRow } from './history.js';
import type { THistoryEventLike } from './types.js';

type TRow = Record<string, unknown>;

interface TCheck {
  kind: string;
  sql: string;
  /** One violation per row. */
  describe: (r: TRow) => { message: string; ids: string[] };
}

/** Evidence rows are capped per check so a broken run still yields a readable report. */
const ROW_LIMIT = 200;

const CHECKS: Record<Exclude<TInvariantName, 'acknowledged-orders-exist' | 'history-consistent'>, { description: string; count: string; checks: TCheck[] }> = {
  'stock-conserved': {
    description: 'per product initial = available + reserved + sold, the counters match the reservations, and no reservation is left behind',
    count: 'SELECT count(*)::int AS n FROM catalog.stock',
    checks: [
      {
        kind: 'stock-equation',
        sql: `SELECT product_id::text, initial, available, reserved, sold, (available + reserved + sold) AS accounted
              FROM catalog.stock WHERE initial <> available + reserved + sold ORDER BY product_id`,
        describe: (r) => ({
          message: `product ${r.product_id}: initial ${r.initial} ≠ available ${r.available} + reserved ${r.reserved} + sold ${r.sold} (= ${r.accounted})`,
          ids: [String(r.product_id)],
        }),
      },
      {
        kind: 'stock-ledger-mismatch',
        sql: `SELECT s.product_id::text, s.reserved, s.sold,
                     COALESCE(SUM(r.qty) FILTER (WHERE r.status = 'reserved'), 0)::int AS live_reservations,
                     COALESCE(SUM(r.qty) FILTER (WHERE r.status = 'committed'), 0)::int AS committed_reservations
              FROM catalog.stock s LEFT JOIN catalog.reservations r ON r.product_id = s.product_id
              GROUP BY s.product_id, s.reserved, s.sold
              HAVING s.reserved <> COALESCE(SUM(r.qty) FILTER (WHERE r.status = 'reserved'), 0)
                  OR s.sold <> COALESCE(SUM(r.qty) FILTER (WHERE r.status = 'committed'), 0)
              ORDER BY s.product_id`,
        describe: (r) => ({
          message: `product ${r.product_id}: counters say reserved ${r.reserved} / sold ${r.sold}, reservations say ${r.live_reservations} / ${r.committed_reservations}`,
          ids: [String(r.product_id)],
        }),
      },
      {
        kind: 'reservation-not-released',
        sql: `SELECT r.id::text AS reservation_id, r.order_id::text, r.product_id::text, r.qty, r.status, o.status AS order_status
              FROM catalog.reservations r LEFT JOIN orders.orders o ON o.id = r.order_id
              WHERE r.status = 'reserved' ORDER BY r.id`,
        describe: (r) => ({
          message: `reservation ${r.reservation_id} (${r.qty} × product ${r.product_id}) still held after quiescence; order ${r.order_id} is ${r.order_status ?? 'missing'}`,
          ids: [String(r.reservation_id), String(r.order_id), String(r.product_id)],
        }),
      },
      {
        kind: 'sold-for-unconfirmed-order',
        sql: `SELECT r.id::text AS reservation_id, r.order_id::text, r.product_id::text, r.qty, o.status AS order_status
              FROM catalog.reservations r LEFT JOIN orders.orders o ON o.id = r.order_id
              WHERE r.status = 'committed' AND o.status IS DISTINCT FROM 'confirmed' ORDER BY r.id`,
        describe: (r) => ({
          message: `reservation ${r.reservation_id} committed (sold) but order ${r.order_id} is ${r.order_status ?? 'missing'}`,
          ids: [String(r.reservation_id), String(r.order_id)],
        }),
      },
    ],
  },
  'stock-non-negative': {
    description: 'no stock counter below zero and never more reserved + sold than there was',
    count: 'SELECT count(*)::int AS n FROM catalog.stock',
    checks: [
      {
        kind: 'negative-stock',
        sql: `SELECT product_id::text, initial, available, reserved, sold FROM catalog.stock
              WHERE available < 0 OR reserved < 0 OR sold < 0 ORDER BY product_id`,
        describe: (r) => ({ message: `product ${r.product_id}: available ${r.available}, reserved ${r.reserved}, sold ${r.sold}`, ids: [String(r.product_id)] }),
      },
      {
        kind: 'oversold',
        sql: `SELECT s.product_id::text, s.initial, SUM(r.qty)::int AS taken, array_agg(r.order_id::text ORDER BY r.id) AS order_ids
              FROM catalog.stock s JOIN catalog.reservations r ON r.product_id = s.product_id AND r.status IN ('reserved', 'committed')
              GROUP BY s.product_id, s.initial HAVING SUM(r.qty) > s.initial ORDER BY s.product_id`,
        describe: (r) => ({
          message: `product ${r.product_id}: ${r.taken} units reserved or sold of ${r.initial}`,
          ids: [String(r.product_id), ...((r.order_ids as string[]) ?? [])],
        }),
      },
    ],
  },
  'payment-exactly-once': {
    description: 'at most one capture per order; each confirmed order has exactly one captured payment of its amount',
    count: `SELECT count(*)::int AS n FROM orders.orders WHERE status = 'confirmed'`,
    checks: [
      {
        kind: 'double-capture',
        sql: `SELECT order_id::text, count(*)::int AS captures, array_agg(id::text ORDER BY id) AS payment_ids,
                     array_agg(amount_cents ORDER BY id) AS amounts, array_agg(idempotency_key ORDER BY id) AS keys
              FROM payments.payments WHERE status IN ('captured', 'refunded')
              GROUP BY order_id HAVING count(*) > 1 ORDER BY order_id`,
        describe: (r) => ({
          message: `order ${r.order_id} charged ${r.captures} times: payments ${(r.payment_ids as string[]).join(', ')}`,
          ids: [String(r.order_id), ...(r.payment_ids as string[])],
        }),
      },
      {
        kind: 'confirmed-without-capture',
        sql: `SELECT o.id::text AS order_id, o.total_cents, count(p.id)::int AS captures, COALESCE(SUM(p.amount_cents), 0)::int AS captured_cents,
                     array_remove(array_agg(p.id::text), NULL) AS payment_ids
              FROM orders.orders o LEFT JOIN payments.payments p ON p.order_id = o.id AND p.status = 'captured'
              WHERE o.status = 'confirmed' GROUP BY o.id, o.total_cents
              HAVING count(p.id) = 0 OR (count(p.id) = 1 AND SUM(p.amount_cents) <> o.total_cents) ORDER BY o.id`,
        describe: (r) => ({
          message:
            r.captures === 0
              ? `order ${r.order_id} is confirmed but has no captured payment`
              : `order ${r.order_id} totals ${r.total_cents} cents, its payment captured ${r.captured_cents}`,
          ids: [String(r.order_id), ...((r.payment_ids as string[]) ?? [])],
        }),
      },
    ],
  },
  'no-charge-without-order': {
    description: 'no payment for an order that does not exist',
    count: `SELECT count(*)::int AS n FROM payments.payments WHERE status IN ('captured', 'refunded')`,
    checks: [
      {
        kind: 'charge-without-order',
        sql: `SELECT p.id::text AS payment_id, p.order_id::text, p.amount_cents, p.status, p.idempotency_key
              FROM payments.payments p LEFT JOIN orders.orders o ON o.id = p.order_id
              WHERE p.status IN ('captured', 'refunded') AND o.id IS NULL ORDER BY p.id`,
        describe: (r) => ({ message: `payment ${r.payment_id} (${r.amount_cents} cents, ${r.status}) for order ${r.order_id}, which does not exist`, ids: [String(r.payment_id), String(r.order_id)] }),
      },
    ],
  },
  'refunds-match-cancellations': {
    description: 'cancelled and failed orders are refunded in full (net charge 0); refunds only for them and never above the payment',
    count: `SELECT count(*)::int AS n FROM orders.orders WHERE status IN ('cancelled', 'failed', 'confirmed')`,
    checks: [
      {
        kind: 'net-charge-mismatch',
        sql: `WITH pay AS (SELECT order_id, SUM(amount_cents)::int AS charged, array_agg(id::text ORDER BY id) AS ids
                           FROM payments.payments WHERE status IN ('captured', 'refunded') GROUP BY order_id),
                   ref AS (SELECT order_id, SUM(amount_cents)::int AS refunded, array_agg(id::text ORDER BY id) AS ids
                           FROM payments.refunds GROUP BY order_id)
              SELECT o.id::text AS order_id, o.status, o.total_cents, COALESCE(pay.charged, 0) AS charged, COALESCE(ref.refunded, 0) AS refunded,
                     COALESCE(pay.ids, '{}') AS payment_ids, COALESCE(ref.ids, '{}') AS refund_ids
              FROM orders.orders o LEFT JOIN pay ON pay.order_id = o.id LEFT JOIN ref ON ref.order_id = o.id
              WHERE (o.status IN ('cancelled', 'failed') AND COALESCE(pay.charged, 0) <> COALESCE(ref.refunded, 0))
                 OR (o.status = 'confirmed' AND COALESCE(ref.refunded, 0) <> 0)
              ORDER BY o.id`,
        describe: (r) => ({
          message:
            r.status === 'confirmed'
              ? `confirmed order ${r.order_id} has ${r.refunded} cents refunded`
              : `${r.status} order ${r.order_id}: charged ${r.charged}, refunded ${r.refunded} (net ${Number(r.charged) - Number(r.refunded)} cents)`,
          ids: [String(r.order_id), ...(r.payment_ids as string[]), ...(r.refund_ids as string[])],
        }),
      },
      {
        kind: 'over-refund',
        sql: `SELECT p.id::text AS payment_id, p.order_id::text, p.amount_cents, SUM(r.amount_cents)::int AS refunded, array_agg(r.id::text ORDER BY r.id) AS refund_ids
              FROM payments.payments p JOIN payments.refunds r ON r.payment_id = p.id
              GROUP BY p.id, p.order_id, p.amount_cents HAVING SUM(r.amount_cents) > p.amount_cents ORDER BY p.id`,
        describe: (r) => ({
          message: `payment ${r.payment_id} of ${r.amount_cents} cents refunded ${r.refunded}`,
          ids: [String(r.payment_id), String(r.order_id), ...(r.refund_ids as string[])],
        }),
      },
    ],
  },
  'saga-terminal': {
    description: 'every saga is completed, compensated or failed, agreeing with its order; no order left pending',
    count: 'SELECT count(*)::int AS n FROM orders.sagas',
    checks: [
      {
        kind: 'saga-not-terminal',
        sql: `SELECT s.order_id::text, s.state, s.step, s.deadline_at, s.updated_at, o.status AS order_status
              FROM orders.sagas s LEFT JOIN orders.orders o ON o.id = s.order_id
              WHERE s.state NOT IN ('completed', 'compensated', 'failed') ORDER BY s.order_id`,
        describe: (r) => ({ message: `saga of order ${r.order_id} stuck in ${r.state} (step ${r.step})`, ids: [String(r.order_id)] }),
      },
      {
        kind: 'order-pending',
        sql: `SELECT o.id::text AS order_id, o.status, o.created_at, o.updated_at FROM orders.orders o WHERE o.status = 'pending' ORDER BY o.id`,
        describe: (r) => ({ message: `order ${r.order_id} still pending after quiescence`, ids: [String(r.order_id)] }),
      },
      {
        kind: 'saga-order-mismatch',
        sql: `SELECT s.order_id::text, s.state, o.status AS order_status
              FROM orders.sagas s JOIN orders.orders o ON o.id = s.order_id
              WHERE (s.state = 'completed' AND o.status <> 'confirmed')
                 OR (s.state IN ('compensated', 'failed') AND o.status = 'confirmed') ORDER BY s.order_id`,
        describe: (r) => ({ message: `saga of order ${r.order_id} is ${r.state} but the order is ${r.order_status}`, ids: [String(r.order_id)] }),
      },
    ],
  },
  'outbox-drained': {
    description: 'no outbox event left unpublished after quiescence',
    count: 'SELECT count(*)::int AS n FROM orders.outbox',
    checks: [
      {
        kind: 'outbox-pending',
        sql: `SELECT id::text AS outbox_id, topic, aggregate_id::text, created_at FROM orders.outbox WHERE published_at IS NULL ORDER BY id`,
        describe: (r) => ({ message: `outbox event ${r.outbox_id} (${r.topic}, aggregate ${r.aggregate_id}) never published`, ids: [String(r.outbox_id), String(r.aggregate_id)] }),
      },
    ],
  },
};

/** One line per invariant, as reports show it. */
export const INVARIANT_DESCRIPTIONS = {
  ...(Object.fromEntries(Object.entries(CHECKS).map(([k, v]) => [k, v.description])) as Record<keyof typeof CHECKS, string>),
  'acknowledged-orders-exist': ACKED_DESCRIPTION,
  'history-consistent': HISTORY_DESCRIPTION,
} satisfies Record<TInvariantName, string>;

/** Plain JSON evidence: dates as ISO strings. */
function plain(r: TRow): TRow {
  const out: TRow = {};
  for (const [k, v] of Object.entries(r)) out[k] = v instanceof Date ? v.toISOString() : v;
  return out;
}

/** Violations of one check from its offending rows (pure). */
export function violationsFor(check: Pick<TCheck, 'kind' | 'describe'>, rows: readonly TRow[]): TViolation[] {
  return rows.map((r) => {
    const d = check.describe(r);
    return { kind: check.kind, message: d.message, ids: d.ids, rows: [plain(r)], events: [] };
  });
}

/** Input of checkConsistency. */
export interface TConsistencyInput {
  /** Which invariants to check. @defaultValue all of INVARIANT_NAMES */
  invariants?: readonly TInvariantName[];
  /** The client history of the run (empty: the history checks pass vacuously with checked 0). */
  history: readonly THistoryEventLike[];
  /** Run window (epoch ms): orders created in it must come from the history. */
  runStart: number;
  runEnd: number;
}

/**
 * Run the invariants against the shop database at `connectionString`. An
 * invariant whose query fails (missing table, connection lost) fails with
 * `error` set rather than passing silently.
 */
export async function checkConsistency(
  connectionString: string,
  input: TConsistencyInput,
): Promise<{ invariants: TInvariantResult[]; infoOps: TInfoOp[] }> {
  const wanted = input.invariants ?? INVARIANT_NAMES;
  const client = new pg.Client({ connectionString, connectionTimeoutMillis: 10_000, statement_timeout: 30_000 });
  await client.connect();
  const results: TInvariantResult[] = [];
  let infoOps: TInfoOp[] = [];
  try {
    // One snapshot for every query, so checks agree with each other even if a straggler writes.
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    for (const name of INVARIANT_NAMES) {
      if (!wanted.includes(name) || name === 'acknowledged-orders-exist' || name === 'history-consistent') continue;
      const spec = CHECKS[name];
      await client.query('SAVEPOINT inv');
      try {
        const violations: TViolation[] = [];
        for (const c of spec.checks) {
          const r = await client.query(`${c.sql} LIMIT ${ROW_LIMIT}`);
          violations.push(...violationsFor(c, r.rows as TRow[]));
        }
        const n = (await client.query(spec.count)).rows[0]?.n ?? 0;
        results.push({ name, description: spec.description, pass: violations.length === 0, checked: Number(n), violations });
        await client.query('RELEASE SAVEPOINT inv');
      } catch (e) {
        await client.query('ROLLBACK TO SAVEPOINT inv');
        results.push({ name, description: spec.description, pass: false, checked: 0, violations: [], error: (e as Error).message });
      }
    }
    if (wanted.includes('acknowledged-orders-exist') || wanted.includes('history-consistent')) {
      const { keys, orderIds } = historyLookups(input.history);
      const cols = `id::text AS id, idempotency_key, status, total_cents, (extract(epoch from created_at) * 1000)::float8 AS created_at`;
      const toRow = (r: TRow): TOrderRow => ({
        id: String(r.id),
        idempotency_key: String(r.idempotency_key),
        status: String(r.status),
        total_cents: Number(r.total_cents),
        created_at: Number(r.created_at),
      });
      try {
        const referenced = await client.query(`SELECT ${cols} FROM orders.orders WHERE idempotency_key = ANY($1::text[]) OR id::text = ANY($2::text[])`, [keys, orderIds]);
        // Only orders whose key the client never sent: the evidence cap then
        // limits unknown orders, not the orders examined.
        const sent = sentCheckoutKeys(input.history);
        const during =
          sent.length === 0
            ? { rows: [] }
            : await client.query(
                `SELECT ${cols} FROM orders.orders WHERE created_at >= to_timestamp($1::float8 / 1000) AND created_at <= to_timestamp($2::float8 / 1000)
                   AND NOT (idempotency_key = ANY($3::text[])) ORDER BY id LIMIT ${ROW_LIMIT}`,
                [input.runStart, input.runEnd, sent],
              );
        const h = checkHistory(input.history, referenced.rows.map(toRow), during.rows.map(toRow));
        if (wanted.includes('acknowledged-orders-exist')) results.push(h.ackedExist);
        if (wanted.includes('history-consistent')) results.push(h.consistent);
        infoOps = h.infoOps;
      } catch (e) {
        for (const name of ['acknowledged-orders-exist', 'history-consistent'] as const)
          if (wanted.includes(name)) results.push({ name, description: INVARIANT_DESCRIPTIONS[name], pass: false, checked: 0, violations: [], error: (e as Error).message });
      }
    }
    await client.query('COMMIT');
  } finally {
    await client.end();
  }
  const order = (n: string) => INVARIANT_NAMES.indexOf(n as TInvariantName);
  return { invariants: results.sort((a, b) => order(a.name) - order(b.name)), infoOps };
}
