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
import { traceViolations, type TTrailLogSearch } from './trace-violations.js';
import type { TBaselineFinding, TConsistencyBaseline, THistoryEventLike } from './types.js';

type TRow = Record<string, unknown>;

interface TCheck {
  kind: string;
  sql: string;
  /** One violation per row. */
  describe: (r: TRow) => { message: string; ids: string[] };
  /** Identity of the offending row for the baseline (same key before and after = same finding). */
  key: (r: TRow) => string;
  /** Size of the anomaly: a baseline finding whose measure grew is new. @defaultValue 0 */
  measure?: (r: TRow) => number;
  /**
   * A product-level finding (counters): the reservations that disagree with
   * their orders are looked up and named, since the counters alone name no cause.
   */
  explainProducts?: true;
}

/** Violations listed per check, so a broken run still yields a readable report. */
const ROW_LIMIT = 200;
/** Pre-existing findings listed per invariant (the rest are counted). */
const PRE_EXISTING_LISTED = 20;
/**
 * Rows read per check: more than ROW_LIMIT, so a database full of
 * pre-existing findings cannot push this run's new ones past the cap.
 */
const SCAN_LIMIT = 5000;

const n = (v: unknown) => Number(v ?? 0);

const CHECKS: Record<Exclude<TInvariantName, 'acknowledged-orders-exist' | 'history-consistent'>, { description: string; count: string; checks: TCheck[] }> = {
  'stock-conserved': {
    description: 'per product initial = available + reserved + sold, the counters match the reservations, and no reservation is left behind',
    count: 'SELECT count(*)::int AS n FROM catalog.stock',
    checks: [
      {
        kind: 'stock-equation',
        explainProducts: true,
        key: (r) => `product ${r.product_id}`,
        measure: (r) => Math.abs(n(r.initial) - n(r.accounted)),
        sql: `SELECT product_id::text, initial, available, reserved, sold, (available + reserved + sold) AS accounted
              FROM catalog.stock WHERE initial <> available + reserved + sold ORDER BY product_id`,
        describe: (r) => ({
          message: `product ${r.product_id}: initial ${r.initial} ≠ available ${r.available} + reserved ${r.reserved} + sold ${r.sold} (= ${r.accounted})`,
          ids: [String(r.product_id)],
        }),
      },
      {
        kind: 'stock-ledger-mismatch',
        explainProducts: true,
        key: (r) => `product ${r.product_id}`,
        measure: (r) => Math.abs(n(r.reserved) - n(r.live_reservations)) + Math.abs(n(r.sold) - n(r.committed_reservations)),
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
        key: (r) => `reservation ${r.reservation_id}`,
        sql: `SELECT r.id::text AS reservation_id, r.order_id::text, r.product_id::text, r.qty, r.status, o.status AS order_status, o.failure_reason
              FROM catalog.reservations r LEFT JOIN orders.orders o ON o.id = r.order_id
              WHERE r.status = 'reserved' ORDER BY r.id`,
        describe: (r) => ({
          message: `reservation ${r.reservation_id} (${r.qty} × product ${r.product_id}) still held after quiescence; order ${r.order_id} is ${r.order_status ?? 'missing'}${r.failure_reason ? ` (${r.failure_reason})` : ''}`,
          ids: [String(r.reservation_id), String(r.order_id), String(r.product_id)],
        }),
      },
      {
        kind: 'sold-for-unconfirmed-order',
        key: (r) => `reservation ${r.reservation_id}`,
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
        explainProducts: true,
        key: (r) => `product ${r.product_id}`,
        measure: (r) => -Math.min(0, n(r.available)) - Math.min(0, n(r.reserved)) - Math.min(0, n(r.sold)),
        sql: `SELECT product_id::text, initial, available, reserved, sold FROM catalog.stock
              WHERE available < 0 OR reserved < 0 OR sold < 0 ORDER BY product_id`,
        describe: (r) => ({
          message: `product ${r.product_id}: available ${r.available}, reserved ${r.reserved}, sold ${r.sold}`,
          ids: [String(r.product_id)],
        }),
      },
      {
        kind: 'oversold',
        key: (r) => `product ${r.product_id}`,
        measure: (r) => n(r.taken) - n(r.initial),
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
        key: (r) => `order ${r.order_id}`,
        measure: (r) => n(r.captures),
        sql: `SELECT order_id::text, count(*)::int AS captures, array_agg(id::text ORDER BY id) AS payment_ids,
                     array_agg(amount_cents ORDER BY id) AS amounts, array_agg(idempotency_key ORDER BY id) AS keys
              FROM payments.payments WHERE status IN ('captured', 'refunded')
              GROUP BY order_id HAVING count(*) > 1 ORDER BY order_id`,
        describe: (r) => ({
          message: `order ${r.order_id} charged ${r.captures} times: payments ${(r.payment_ids as string[]).map((id, i) => `${id} (key ${(r.keys as string[])[i]})`).join(', ')}`,
          ids: [String(r.order_id), ...(r.payment_ids as string[])],
        }),
      },
      {
        kind: 'confirmed-without-capture',
        key: (r) => `order ${r.order_id}`,
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
        key: (r) => `payment ${r.payment_id}`,
        sql: `SELECT p.id::text AS payment_id, p.order_id::text, p.amount_cents, p.status, p.idempotency_key
              FROM payments.payments p LEFT JOIN orders.orders o ON o.id = p.order_id
              WHERE p.status IN ('captured', 'refunded') AND o.id IS NULL ORDER BY p.id`,
        describe: (r) => ({
          message: `payment ${r.payment_id} (${r.amount_cents} cents, ${r.status}) for order ${r.order_id}, which does not exist`,
          ids: [String(r.payment_id), String(r.order_id)],
        }),
      },
    ],
  },
  'refunds-match-cancellations': {
    description: 'cancelled and failed orders are refunded in full (net charge 0); refunds only for them and never above the payment',
    count: `SELECT count(*)::int AS n FROM orders.orders WHERE status IN ('cancelled', 'failed', 'confirmed')`,
    checks: [
      {
        kind: 'net-charge-mismatch',
        key: (r) => `order ${r.order_id} ${r.status}`,
        measure: (r) => (r.status === 'confirmed' ? n(r.refunded) : Math.abs(n(r.charged) - n(r.refunded))),
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
        key: (r) => `payment ${r.payment_id}`,
        measure: (r) => n(r.refunded) - n(r.amount_cents),
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
        key: (r) => `order ${r.order_id}`,
        sql: `SELECT s.order_id::text, s.state, s.step, s.deadline_at, s.updated_at, o.status AS order_status
              FROM orders.sagas s LEFT JOIN orders.orders o ON o.id = s.order_id
              WHERE s.state NOT IN ('completed', 'compensated', 'failed') ORDER BY s.order_id`,
        describe: (r) => ({
          message: `saga of order ${r.order_id} stuck in ${r.state} (step ${r.step}), last moved ${r.updated_at instanceof Date ? r.updated_at.toISOString() : String(r.updated_at)}, deadline ${r.deadline_at instanceof Date ? r.deadline_at.toISOString() : String(r.deadline_at)}; order is ${r.order_status ?? 'missing'}`,
          ids: [String(r.order_id)],
        }),
      },
      {
        kind: 'order-pending',
        key: (r) => `order ${r.order_id}`,
        sql: `SELECT o.id::text AS order_id, o.status, o.created_at, o.updated_at FROM orders.orders o WHERE o.status = 'pending' ORDER BY o.id`,
        describe: (r) => ({ message: `order ${r.order_id} still pending after quiescence`, ids: [String(r.order_id)] }),
      },
      {
        kind: 'saga-order-mismatch',
        key: (r) => `order ${r.order_id}`,
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
        key: (r) => `outbox ${r.outbox_id}`,
        sql: `SELECT id::text AS outbox_id, topic, aggregate_id::text, created_at FROM orders.outbox WHERE published_at IS NULL ORDER BY id`,
        describe: (r) => ({
          message: `outbox event ${r.outbox_id} (${r.topic}, aggregate ${r.aggregate_id}) never published`,
          ids: [String(r.outbox_id), String(r.aggregate_id)],
        }),
      },
    ],
  },
};

/** One line per invariant, as reports show it (indexed by any name: experiments list invariants as strings). */
export const INVARIANT_DESCRIPTIONS: Readonly<Record<string, string>> = {
  ...(Object.fromEntries(Object.entries(CHECKS).map(([k, v]) => [k, v.description])) as Record<keyof typeof CHECKS, string>),
  'acknowledged-orders-exist': ACKED_DESCRIPTION,
  'history-consistent': HISTORY_DESCRIPTION,
  // the same check by the name targets/shop.yaml gives it (SHOP_INVARIANTS)
  ...{ 'acknowledged-writes-exist': ACKED_DESCRIPTION },
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

type TSqlInvariant = keyof typeof CHECKS;
const SQL_INVARIANTS = INVARIANT_NAMES.filter((n): n is TSqlInvariant => n in CHECKS);

/** The baseline findings of one check's offending rows (pure). */
export function baselineFindingsFor(invariant: string, check: Pick<TCheck, 'kind' | 'key' | 'measure'>, rows: readonly TRow[]): TBaselineFinding[] {
  return rows.map((r) => ({ invariant, kind: check.kind, key: check.key(r), measure: check.measure?.(r) ?? 0 }));
}

/**
 * Judge one SQL invariant's offending rows against the baseline (pure): a
 * row whose (kind, key) was in the baseline with a measure at least as
 * large is pre-existing; anything else is this run's. New violations are
 * listed up to ROW_LIMIT, pre-existing ones up to PRE_EXISTING_LISTED and
 * counted in full.
 */
export function judgeInvariant(
  name: TSqlInvariant,
  rowsByCheck: readonly { check: TCheck; rows: readonly TRow[] }[],
  checked: number,
  baseline?: TConsistencyBaseline,
): TInvariantResult {
  const known = new Map<string, number>();
  for (const f of baseline?.findings ?? [])
    if (f.invariant === name) known.set(`${f.kind}\u0000${f.key}`, Math.max(f.measure, known.get(`${f.kind}\u0000${f.key}`) ?? -Infinity));
  const fresh: TViolation[] = [];
  const old: TViolation[] = [];
  let preExisting = 0;
  for (const { check, rows } of rowsByCheck) {
    let listed = 0;
    for (const r of rows) {
      const before = known.get(`${check.kind}\u0000${check.key(r)}`);
      const isOld = before !== undefined && (check.measure?.(r) ?? 0) <= before;
      const [v] = violationsFor(check, [r]);
      if (isOld) {
        preExisting++;
        if (old.length < PRE_EXISTING_LISTED) old.push({ ...v!, preExisting: true });
      } else if (listed++ < ROW_LIMIT) fresh.push(v!);
    }
  }
  const spec = CHECKS[name];
  return {
    name,
    description: spec.description,
    pass: fresh.length === 0,
    checked,
    violations: [...fresh, ...old],
    ...(baseline ? { preExisting } : {}),
  };
}

/** Every SQL invariant's offending rows and examined count, inside the caller's snapshot; a failing query is reported per invariant. */
async function scanInvariants(
  client: pg.Client,
  names: readonly TSqlInvariant[],
): Promise<Map<TSqlInvariant, { rowsByCheck: { check: TCheck; rows: TRow[] }[]; checked: number } | { error: string }>> {
  const out = new Map<TSqlInvariant, { rowsByCheck: { check: TCheck; rows: TRow[] }[]; checked: number } | { error: string }>();
  for (const name of names) {
    const spec = CHECKS[name];
    await client.query('SAVEPOINT inv');
    try {
      const rowsByCheck: { check: TCheck; rows: TRow[] }[] = [];
      for (const c of spec.checks) rowsByCheck.push({ check: c, rows: (await client.query(`${c.sql} LIMIT ${SCAN_LIMIT}`)).rows as TRow[] });
      const checked = Number((await client.query(spec.count)).rows[0]?.n ?? 0);
      out.set(name, { rowsByCheck, checked });
      await client.query('RELEASE SAVEPOINT inv');
    } catch (e) {
      await client.query('ROLLBACK TO SAVEPOINT inv');
      out.set(name, { error: (e as Error).message });
    }
  }
  return out;
}

/**
 * Reservations of the given products that disagree with their order: live
 * for an order that is no longer pending, sold for an order that is not
 * confirmed, released for a confirmed order, or missing for a confirmed
 * order's item. These are the orders a counter mismatch comes from.
 */
const SUSPECTS_SQL = `
  SELECT r.product_id::text, r.id::text AS reservation_id, r.order_id::text, r.qty, r.status, o.status AS order_status, o.failure_reason
  FROM catalog.reservations r LEFT JOIN orders.orders o ON o.id = r.order_id
  WHERE r.product_id = ANY($1::bigint[])
    AND ((r.status = 'reserved' AND o.status IS DISTINCT FROM 'pending')
      OR (r.status = 'committed' AND o.status IS DISTINCT FROM 'confirmed')
      OR (r.status = 'released' AND o.status = 'confirmed'))
  UNION ALL
  SELECT it.product_id, NULL, o.id::text, it.qty, 'missing', o.status, o.failure_reason
  FROM orders.orders o
  CROSS JOIN LATERAL (SELECT e->>'productId' AS product_id, (e->>'qty')::int AS qty
                      FROM jsonb_array_elements(CASE WHEN jsonb_typeof(o.items) = 'array' THEN o.items ELSE '[]'::jsonb END) e) it
  WHERE o.status = 'confirmed' AND it.product_id = ANY($2::text[])
    AND NOT EXISTS (SELECT 1 FROM catalog.reservations r WHERE r.order_id = o.id AND r.product_id::text = it.product_id)
  ORDER BY 1, 3
  LIMIT ${SCAN_LIMIT}`;

/**
 * When no reservation disagrees with its order, counters that drifted point
 * at a lost update: reservations of the product made within a few
 * milliseconds of each other, each reading the same counter.
 */
const CONCURRENT_SQL = `
  SELECT a.product_id::text, a.order_id::text AS order_a, b.order_id::text AS order_b,
         (extract(epoch from (b.created_at - a.created_at)) * 1000)::int AS apart_ms
  FROM catalog.reservations a
  JOIN catalog.reservations b ON b.product_id = a.product_id AND b.id <> a.id
   AND b.created_at >= a.created_at AND b.created_at < a.created_at + interval '50 milliseconds'
   AND (b.created_at > a.created_at OR b.id > a.id)
  WHERE a.product_id = ANY($1::bigint[])
  ORDER BY 1, 4, 2
  LIMIT ${SCAN_LIMIT}`;

/** Suspects named in a message; the rest are counted. */
const SUSPECTS_NAMED = 5;

/** One suspect reservation as a clause: `order 120 (reservation 88: 1 × reserved, order failed: invalid_items)`. */
function suspectText(r: TRow): string {
  const order = `order ${r.order_status ?? 'missing'}${r.failure_reason ? `: ${r.failure_reason}` : ''}`;
  return r.status === 'missing'
    ? `order ${r.order_id} (confirmed with ${r.qty} × this product but no reservation)`
    : `order ${r.order_id} (reservation ${r.reservation_id}: ${r.qty} × ${r.status}, ${order})`;
}

/**
 * A product-level violation with the orders behind it (pure): the message
 * names them, their ids join the violation's ids and their reservation rows its rows.
 */
export function explainWithSuspects(v: TViolation, suspects: readonly TRow[], concurrent: readonly TRow[] = []): TViolation {
  const product = v.ids[0];
  const mine = suspects.filter((r) => String(r.product_id) === product);
  if (!mine.length) {
    const pairs = concurrent.filter((r) => String(r.product_id) === product);
    const base = `${v.message}; every reservation of the product agrees with its order, so a counter moved without one`;
    if (!pairs.length) return { ...v, message: base };
    const orders = [...new Set(pairs.slice(0, SUSPECTS_NAMED).flatMap((r) => [String(r.order_a), String(r.order_b)]))];
    return {
      ...v,
      message: `${base}: reservations made concurrently (a lost update?): ${pairs
        .slice(0, SUSPECTS_NAMED)
        .map((r) => `orders ${r.order_a} and ${r.order_b} ${r.apart_ms} ms apart`)
        .join(', ')}${pairs.length > SUSPECTS_NAMED ? ` and ${pairs.length - SUSPECTS_NAMED} more pairs` : ''}`,
      ids: [...v.ids, ...orders.filter((o) => !v.ids.includes(o))],
      rows: [...v.rows, ...pairs.slice(0, SUSPECTS_NAMED).map((r) => ({ ...r, order_ids: [String(r.order_a), String(r.order_b)] }))],
    };
  }
  const named = mine.slice(0, SUSPECTS_NAMED).map(suspectText).join(', ');
  const more = mine.length > SUSPECTS_NAMED ? ` and ${mine.length - SUSPECTS_NAMED} more` : '';
  const orders = [...new Set(mine.map((r) => String(r.order_id)))];
  return {
    ...v,
    message: `${v.message}; inconsistent reservations: ${named}${more}`,
    ids: [...v.ids, ...orders.filter((o) => !v.ids.includes(o))],
    rows: [...v.rows, ...mine.map((r) => ({ ...r }))],
  };
}

const CHECK_BY_KIND = new Map(Object.values(CHECKS).flatMap((c) => c.checks.map((x) => [x.kind, x] as const)));

/** Name the orders behind every listed product-level finding, inside the caller's snapshot. */
async function explainProducts(client: pg.Client, results: TInvariantResult[]): Promise<TInvariantResult[]> {
  const wants = (v: TViolation) => !!CHECK_BY_KIND.get(v.kind)?.explainProducts;
  const products = [...new Set(results.flatMap((i) => i.violations.filter(wants).map((v) => v.ids[0]!)))];
  if (!products.length) return results;
  const suspects = (await client.query(SUSPECTS_SQL, [products, products])).rows as TRow[];
  const unexplained = products.filter((p) => !suspects.some((r) => String(r.product_id) === p));
  const concurrent = unexplained.length ? ((await client.query(CONCURRENT_SQL, [unexplained])).rows as TRow[]) : [];
  return results.map((i) => ({ ...i, violations: i.violations.map((v) => (wants(v) ? explainWithSuspects(v, suspects, concurrent) : v)) }));
}

function shopClient(connectionString: string): pg.Client {
  return new pg.Client({ connectionString, connectionTimeoutMillis: 10_000, statement_timeout: 30_000 });
}

/**
 * What every SQL invariant would flag right now, taken before the load so
 * findings left by an earlier run (a gate's experiments share one shop
 * database) are reported as pre-existing, not as this run's failures.
 * Read-only, one snapshot. Rejects when the database cannot be reached.
 */
export async function captureConsistencyBaseline(shopDatabaseUrl: string): Promise<TConsistencyBaseline> {
  const client = shopClient(shopDatabaseUrl);
  await client.connect();
  const capturedAt = Date.now();
  const findings: TBaselineFinding[] = [];
  const errors: TConsistencyBaseline['errors'] = [];
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    for (const [name, r] of await scanInvariants(client, SQL_INVARIANTS)) {
      if ('error' in r) errors.push({ invariant: name, message: r.error });
      else for (const { check, rows } of r.rowsByCheck) findings.push(...baselineFindingsFor(name, check, rows));
    }
    await client.query('COMMIT');
  } finally {
    await client.end();
  }
  return { capturedAt, findings, errors };
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
  /**
   * Findings taken before the load (captureConsistencyBaseline): the same
   * findings after it are marked pre-existing and do not fail the run. The
   * history checks judge only this run's operations and ignore it.
   * @defaultValue none: every finding is the run's
   */
  baseline?: TConsistencyBaseline;
  /**
   * Attach a trail to the first new violations of each invariant (trace-violations.ts),
   * read in the same snapshot; `logs` adds the log lines that mention the orders,
   * searched within `window` (epoch ms).
   * @defaultValue no trails
   */
  trail?: { logs?: TTrailLogSearch; window?: { from: number; to: number } };
}

/**
 * Run the invariants against the shop database at `connectionString`. An
 * invariant whose query fails (missing table, connection lost) fails with
 * `error` set rather than passing silently.
 */
export async function checkConsistency(connectionString: string, input: TConsistencyInput): Promise<{ invariants: TInvariantResult[]; infoOps: TInfoOp[] }> {
  const wanted = input.invariants ?? INVARIANT_NAMES;
  const client = shopClient(connectionString);
  await client.connect();
  const results: TInvariantResult[] = [];
  let infoOps: TInfoOp[] = [];
  try {
    // One snapshot for every query, so checks agree with each other even if a straggler writes.
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const scanned = await scanInvariants(
      client,
      SQL_INVARIANTS.filter((n) => wanted.includes(n)),
    );
    for (const [name, r] of scanned) {
      if ('error' in r) results.push({ name, description: CHECKS[name].description, pass: false, checked: 0, violations: [], error: r.error });
      else results.push(judgeInvariant(name, r.rowsByCheck, r.checked, input.baseline));
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
        const referenced = await client.query(`SELECT ${cols} FROM orders.orders WHERE idempotency_key = ANY($1::text[]) OR id::text = ANY($2::text[])`, [
          keys,
          orderIds,
        ]);
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
          if (wanted.includes(name))
            results.push({ name, description: INVARIANT_DESCRIPTIONS[name], pass: false, checked: 0, violations: [], error: (e as Error).message });
      }
    }
    // Explanations and trails are evidence: if they fail, the verdicts above stand and say why.
    let explained = results;
    await client.query('SAVEPOINT explain');
    try {
      explained = await explainProducts(client, explained);
      if (input.trail) explained = await traceViolations(client, explained, input.trail);
      await client.query('RELEASE SAVEPOINT explain');
    } catch (e) {
      await client.query('ROLLBACK TO SAVEPOINT explain');
      const note = { at: null, source: 'trail', text: `could not trace: ${(e as Error).message}` };
      explained = results.map((i) => ({ ...i, violations: i.violations.map((v) => (v.preExisting ? v : { ...v, trail: [note] })) }));
    }
    results.splice(0, results.length, ...explained);
    await client.query('COMMIT');
  } finally {
    await client.end();
  }
  const order = (n: string) => INVARIANT_NAMES.indexOf(n as TInvariantName);
  return { invariants: results.sort((a, b) => order(a.name) - order(b.name)), infoOps };
}

/**
 * Whether the shop has settled after the load: no saga in a non-terminal
 * state, no unpublished outbox row, no live reservation of a finished
 * order. Cheap (three COUNTs) and read-only, so the runner can poll it.
 * `detail` names what is still in flight. Rejects when the database cannot
 * be reached (the caller decides whether to keep polling).
 *
 * Given the run's baseline, what was already stuck before the run (a
 * leaked reservation, a saga the sweeper gave up on, left by an earlier
 * experiment of the gate) is not waited for: it will not settle now either.
 */
export async function isSettled(shopDatabaseUrl: string, opts: { baseline?: TConsistencyBaseline } = {}): Promise<{ settled: boolean; detail: string }> {
  const ignore = settleExclusions(opts.baseline);
  const client = shopClient(shopDatabaseUrl);
  await client.connect();
  try {
    const r = await client.query(
      `SELECT (SELECT count(*) FROM orders.sagas WHERE state NOT IN ('completed', 'compensated', 'failed') AND NOT (order_id = ANY($1::bigint[])))::int AS sagas,
              (SELECT count(*) FROM orders.outbox WHERE published_at IS NULL AND NOT (id = ANY($2::bigint[])))::int AS outbox,
              (SELECT count(*) FROM catalog.reservations r JOIN orders.orders o ON o.id = r.order_id
                WHERE r.status = 'reserved' AND o.status IN ('confirmed', 'cancelled', 'failed') AND NOT (r.id = ANY($3::bigint[])))::int AS reservations`,
      [ignore.sagas, ignore.outbox, ignore.reservations],
    );
    return settledDetail(r.rows[0] as { sagas: number; outbox: number; reservations: number });
  } finally {
    await client.end();
  }
}

/** Ids a baseline already flagged as stuck, per settling condition (pure). */
export function settleExclusions(baseline?: TConsistencyBaseline): { sagas: string[]; outbox: string[]; reservations: string[] } {
  const ids = (kind: string, prefix: string) =>
    (baseline?.findings ?? [])
      .filter((f) => f.kind === kind && f.key.startsWith(prefix))
      .map((f) => f.key.slice(prefix.length))
      .filter((x) => /^\d+$/.test(x));
  return { sagas: ids('saga-not-terminal', 'order '), outbox: ids('outbox-pending', 'outbox '), reservations: ids('reservation-not-released', 'reservation ') };
}

/** The settled verdict and its sentence from the three counts (pure). */
export function settledDetail(c: { sagas: number; outbox: number; reservations: number }): { settled: boolean; detail: string } {
  const plural = (k: number, one: string, many: string) => `${k} ${k === 1 ? one : many}`;
  const open = [
    c.sagas > 0 ? `${plural(c.sagas, 'saga', 'sagas')} in flight` : null,
    c.outbox > 0 ? `${plural(c.outbox, 'outbox row', 'outbox rows')} unpublished` : null,
    c.reservations > 0 ? `${plural(c.reservations, 'reservation', 'reservations')} still held for finished orders` : null,
  ].filter((x): x is string => x !== null);
  return open.length === 0 ? { settled: true, detail: 'settled' } : { settled: false, detail: open.join(', ') };
}
