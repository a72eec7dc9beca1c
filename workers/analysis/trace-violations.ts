/**
 * Violation trails: for the orders a violation names, what happened to
 * them, oldest first — the order's status changes, its saga, its outbox
 * events, its stock reservations, its payments (with idempotency keys) and
 * refunds, and the log lines of every service that mention it.
 *
 *   violation ─▶ subjects (order ids, idempotency keys) ─┬─▶ shop rows (one snapshot) ─┐
 *                                                        └─▶ log store full-text ──────┴─▶ buildTrail (pure)
 *
 * Bounded: TRAIL_LIMIT steps per violation, TRACED_PER_INVARIANT violations
 * per invariant, ORDERS_PER_VIOLATION orders per violation. Database rows
 * win over log lines when a trail must be cut, since they are the state.
 */
import type pg from 'pg';
import type { TLogQuery } from '../logstore/index.js';
import type { TInvariantResult, TTrailEntry, TViolation } from '../reports/schema.js';

/** Steps kept per violation. */
export const TRAIL_LIMIT = 40;
/** Violations traced per invariant (the first ones; the rest keep rows and ids only). */
export const TRACED_PER_INVARIANT = 5;
/** Orders traced per violation (an oversold product can name hundreds). */
export const ORDERS_PER_VIOLATION = 3;
/** Log lines read per order id or key. */
const LOG_LINES_PER_SUBJECT = 25;
/** Log searches per analysis, whatever the number of violations. */
const LOG_SEARCHES_MAX = 100;

/** What a trail needs of a log store (LogStore.search of workers/logstore satisfies it). */
export interface TTrailLogSearch {
  search(query: TLogQuery): Promise<{
    records: { time: Date | string | number; level?: string; service: string; instance: string; msg: string; fields?: Record<string, unknown> }[];
  }>;
}

type TRow = Record<string, unknown>;

/** The shop rows and log lines about a set of orders, as read (dates as Date or ISO strings). */
export interface TTrailRows {
  orders: TRow[];
  orderEvents: TRow[];
  sagas: TRow[];
  outbox: TRow[];
  reservations: TRow[];
  payments: TRow[];
  refunds: TRow[];
  idempotency: TRow[];
  logs: { time: Date | string | number; level?: string; service: string; instance: string; msg: string; fields?: Record<string, unknown> }[];
}

const NO_ROWS: TTrailRows = { orders: [], orderEvents: [], sagas: [], outbox: [], reservations: [], payments: [], refunds: [], idempotency: [], logs: [] };

/** Order ids and free-text terms (idempotency keys) a violation is about. Pure. */
export function subjectsOf(v: Pick<TViolation, 'kind' | 'ids' | 'rows' | 'events'>): { orders: string[]; terms: string[] } {
  const orders: string[] = [];
  const terms: string[] = [];
  const add = (xs: string[], x: unknown) => {
    if (x === null || x === undefined || x === '') return;
    const s = String(x);
    if (!xs.includes(s)) xs.push(s);
  };
  for (const r of v.rows) {
    add(orders, r.order_id);
    add(orders, r.aggregate_id);
    if (Array.isArray(r.order_ids)) for (const o of r.order_ids) add(orders, o);
    // history rows are orders themselves
    if (r.idempotency_key !== undefined && r.id !== undefined && r.order_id === undefined) add(orders, r.id);
  }
  // history violations name the order and the idempotency key the client used
  if (v.events.length) {
    for (const id of v.ids) add(/^\d+$/.test(id) ? orders : terms, id);
    for (const e of v.events) {
      const value = (e.value ?? {}) as Record<string, unknown>;
      add(terms, value.idempotencyKey);
    }
  }
  return { orders, terms };
}

const iso = (t: unknown): string | null => {
  if (t === null || t === undefined) return null;
  const d = t instanceof Date ? t : new Date(typeof t === 'number' ? t : String(t));
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
};

/** Fields of a log line worth a place in a one-line trail step. */
const LOG_FIELDS = ['err', 'kind', 'state', 'step', 'status', 'route', 'method', 'attempt', 'breaker', 'reason', 'code', 'durationMs', 'retryInMs'];

function logText(l: TTrailRows['logs'][number]): string {
  const f = l.fields ?? {};
  const extra = LOG_FIELDS.filter((k) => f[k] !== undefined && f[k] !== null)
    .map((k) => `${k}=${typeof f[k] === 'object' ? JSON.stringify(f[k]) : String(f[k])}`)
    .join(' ');
  return `${l.level ? `${l.level}: ` : ''}${l.msg}${extra ? ` (${extra})` : ''}`;
}

const ms = (a: unknown, b: unknown): string => {
  const x = iso(a);
  const y = iso(b);
  if (!x || !y) return '';
  const d = Date.parse(y) - Date.parse(x);
  return d < 1000 ? `${d} ms` : `${(d / 1000).toFixed(1)} s`;
};

/**
 * The trail of a set of orders from their rows and log lines (pure): one
 * step per state change, sorted by time (steps without a time last),
 * bounded to `limit` — rows first, then log lines by severity.
 */
export function buildTrail(given: Partial<TTrailRows> & Pick<TTrailRows, 'logs'> & { steps?: readonly TTrailEntry[] }, limit = TRAIL_LIMIT): TTrailEntry[] {
  // a target's trail has log lines and its `trails` queries' steps; the shop's also has its tables' rows
  const { steps, ...given2 } = given;
  const rows: TTrailRows = { ...NO_ROWS, ...given2 };
  const db: TTrailEntry[] = [...(steps ?? [])];
  const step = (at: unknown, source: string, text: string) => db.push({ at: iso(at), source, text });
  for (const o of rows.orders) {
    step(o.created_at, 'orders.orders', `order ${o.id} created: ${o.total_cents} cents, key ${o.idempotency_key}`);
    if (o.failure_reason) step(o.updated_at, 'orders.orders', `order ${o.id} is ${o.status}: ${o.failure_reason}`);
  }
  for (const e of rows.orderEvents) step(e.at, 'orders.order_events', `order ${e.order_id}: ${e.from_status ?? '∅'} → ${e.to_status}`);
  for (const s of rows.sagas)
    step(s.updated_at, 'orders.sagas', `saga of order ${s.order_id} ${s.state} (step ${s.step}, deadline ${iso(s.deadline_at) ?? '?'})`);
  for (const x of rows.outbox)
    step(
      x.created_at,
      'orders.outbox',
      `${x.topic} event ${x.id} for order ${x.aggregate_id} written, ${x.published_at ? `published after ${ms(x.created_at, x.published_at)}` : 'never published'}`,
    );
  for (const r of rows.reservations) {
    step(r.created_at, 'catalog.reservations', `reservation ${r.id}: ${r.qty} × product ${r.product_id} reserved for order ${r.order_id}`);
    if (r.status !== 'reserved') step(r.updated_at, 'catalog.reservations', `reservation ${r.id} (order ${r.order_id}, product ${r.product_id}) ${r.status}`);
  }
  for (const p of rows.payments)
    step(
      p.created_at,
      'payments.payments',
      `payment ${p.id} for order ${p.order_id}: ${p.amount_cents} cents ${p.status}, idempotency key ${p.idempotency_key}`,
    );
  for (const r of rows.refunds)
    step(
      r.created_at,
      'payments.refunds',
      `refund ${r.id} of payment ${r.payment_id} (order ${r.order_id}): ${r.amount_cents} cents, idempotency key ${r.idempotency_key}`,
    );
  for (const k of rows.idempotency)
    step(k.created_at, 'payments.idempotency', `idempotency key ${k.key} recorded, answered ${k.status_code ?? 'nothing (still locked or lost)'}`);
  const severity: Record<string, number> = { fatal: 0, error: 1, warn: 2, info: 3, debug: 4, trace: 5 };
  // a line found under two subjects (order id and key) appears once
  const seen = new Set<string>();
  const logs = rows.logs
    .filter((l) => {
      const k = `${iso(l.time)}|${l.instance}|${l.msg}`;
      return seen.has(k) ? false : (seen.add(k), true);
    })
    .map((l, i) => ({ e: { at: iso(l.time), source: `log ${l.instance}`, text: logText(l) }, rank: severity[l.level ?? 'info'] ?? 3, i }))
    .sort((a, b) => a.rank - b.rank || a.i - b.i);
  const byTime = (a: TTrailEntry, b: TTrailEntry) => (a.at === null ? 1 : b.at === null ? -1 : a.at < b.at ? -1 : a.at > b.at ? 1 : 0);
  // cut to `limit` steps, the last saying how many were left out
  const cut = db.length + logs.length > limit;
  const keep = cut ? limit - 1 : limit;
  const dbKept = [...db].sort(byTime).slice(0, keep);
  const logsKept = logs.slice(0, Math.max(0, keep - dbKept.length)).map((x) => x.e);
  const trail = [...dbKept, ...logsKept].sort(byTime);
  if (cut) trail.push({ at: null, source: 'trail', text: `${db.length + logs.length - trail.length} more step(s) not shown` });
  return trail;
}

/** Rows of `rows` whose `key` is in `ids`. */
const having = (rows: TRow[], key: string, ids: readonly string[]) => rows.filter((r) => ids.includes(String(r[key])));

/**
 * Attach a trail to the first new violations of every invariant (in place
 * on copies: the returned results). Reads the shop through `client` (the
 * caller's snapshot) and, when given, the log store, limited to
 * `window` so other runs' lines stay out. A log store that fails adds one
 * step saying so; the rows are still shown.
 */
export async function traceViolations(
  client: pg.Client,
  invariants: readonly TInvariantResult[],
  opts: { logs?: TTrailLogSearch; window?: { from: number; to: number } } = {},
): Promise<TInvariantResult[]> {
  const targets: { v: TViolation; orders: string[]; terms: string[] }[] = [];
  const out = invariants.map((i) => ({ ...i, violations: i.violations.map((v) => ({ ...v })) }));
  for (const i of out) {
    for (const v of i.violations.filter((x) => !x.preExisting).slice(0, TRACED_PER_INVARIANT)) {
      const s = subjectsOf(v);
      targets.push({ v, orders: s.orders.slice(0, ORDERS_PER_VIOLATION), terms: s.terms.slice(0, 2) });
    }
  }
  if (!targets.length) return out;
  const ids = [...new Set(targets.flatMap((t) => t.orders))].filter((x) => /^\d+$/.test(x));
  const q = async (sql: string, params: unknown[]) => (await client.query(sql, params)).rows as TRow[];
  const rows: Omit<TTrailRows, 'logs'> = {
    orders: await q(
      `SELECT id::text, idempotency_key, status, total_cents, failure_reason, created_at, updated_at FROM orders.orders WHERE id = ANY($1::bigint[])`,
      [ids],
    ),
    orderEvents: await q(`SELECT order_id::text, from_status, to_status, at FROM orders.order_events WHERE order_id = ANY($1::bigint[]) ORDER BY seq`, [ids]),
    sagas: await q(`SELECT order_id::text, state, step, deadline_at, updated_at FROM orders.sagas WHERE order_id = ANY($1::bigint[])`, [ids]),
    outbox: await q(`SELECT id::text, topic, aggregate_id::text, created_at, published_at FROM orders.outbox WHERE aggregate_id = ANY($1::bigint[])`, [ids]),
    reservations: await q(
      `SELECT id::text, order_id::text, product_id::text, qty, status, created_at, updated_at FROM catalog.reservations WHERE order_id = ANY($1::bigint[])`,
      [ids],
    ),
    payments: await q(
      `SELECT id::text, order_id::text, idempotency_key, amount_cents, status, created_at FROM payments.payments WHERE order_id = ANY($1::bigint[])`,
      [ids],
    ),
    refunds: await q(
      `SELECT id::text, payment_id::text, order_id::text, amount_cents, idempotency_key, created_at FROM payments.refunds WHERE order_id = ANY($1::bigint[])`,
      [ids],
    ),
    idempotency: [],
  };
  const keys = [...new Set([...rows.payments, ...rows.refunds].map((p) => String(p.idempotency_key)))];
  rows.idempotency = await q(`SELECT key, status_code, created_at FROM payments.idempotency WHERE key = ANY($1::text[])`, [keys]);

  // log lines per subject, each searched once
  const logsOf = new Map<string, TTrailRows['logs']>();
  let logError: string | null = null;
  if (opts.logs) {
    let searches = 0;
    for (const term of [...new Set(targets.flatMap((t) => [...t.orders, ...t.terms]))]) {
      if (searches++ >= LOG_SEARCHES_MAX) break;
      try {
        const page = await opts.logs.search({
          text: term,
          limit: LOG_LINES_PER_SUBJECT,
          ...(opts.window ? { from: new Date(opts.window.from), to: new Date(opts.window.to) } : {}),
        });
        logsOf.set(term, page.records);
      } catch (e) {
        logError = (e as Error).message;
        break;
      }
    }
  }
  for (const t of targets) {
    const keysOf = [...having(rows.payments, 'order_id', t.orders), ...having(rows.refunds, 'order_id', t.orders)].map((p) => String(p.idempotency_key));
    const trail = buildTrail({
      orders: having(rows.orders, 'id', t.orders),
      orderEvents: having(rows.orderEvents, 'order_id', t.orders),
      sagas: having(rows.sagas, 'order_id', t.orders),
      outbox: having(rows.outbox, 'aggregate_id', t.orders),
      reservations: having(rows.reservations, 'order_id', t.orders),
      payments: having(rows.payments, 'order_id', t.orders),
      refunds: having(rows.refunds, 'order_id', t.orders),
      idempotency: having(rows.idempotency, 'key', keysOf),
      logs: [...t.orders, ...t.terms].flatMap((x) => logsOf.get(x) ?? []),
    });
    if (logError) trail.push({ at: null, source: 'trail', text: `log store not searched: ${logError}` });
    else if (!opts.logs) trail.push({ at: null, source: 'trail', text: 'no log store given: log lines not searched' });
    if (t.orders.length === 0 && t.terms.length === 0) trail.push({ at: null, source: 'trail', text: 'no order is involved: the rows above are the evidence' });
    t.v.trail = trail;
  }
  return out;
}
