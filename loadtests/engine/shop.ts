/**
 * The shop's request mix: setup (register + log in users, pick products)
 * and one weighted request per iteration. Every operation is also a history
 * event — invoke, then ok / fail / info — so the consistency checker can
 * match acknowledged orders (ok + orderId) against the shop's tables. `info`
 * means the outcome is unknown (5xx, timeout, interrupted write): the order
 * may or may not exist.
 */
import { randomUUID } from 'node:crypto';
import type { TScenario, TShopAction } from '../scenario.js';
import type { THistoryEvent, THistoryF } from '../types.js';

export interface TShopUser {
  email: string;
  userId?: string;
  token: string;
  /** Confirmed orders of this user not yet cancelled (for order_status / cancel). */
  orders: { id: string; totalCents?: number }[];
}

export interface TShopData {
  users: TShopUser[];
  products: { id: string; priceCents: number }[];
}

export interface TCallResult {
  status: number;
  json: unknown;
  errorKind?: string;
  interrupted: boolean;
  latencyMs: number;
  correctedLatencyMs: number;
}

/** What the mix needs from the engine: a recorded request and a history sink. */
export interface TShopIO {
  /** `f`: the request's name (its k6 `name` tag): a shop operation, or a plain-HTTP request's name. */
  call(
    f: THistoryF | (string & {}),
    req: {
      method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
      path: string;
      body?: unknown;
      token?: string;
      idempotencyKey?: string;
      headers?: Record<string, string>;
      route: string;
      expected: number;
      readBody?: boolean;
    },
  ): Promise<TCallResult>;
  history(e: Omit<THistoryEvent, 'index' | 'time'>): void;
  /**
   * False when nobody records history: the iteration then builds no event
   * objects at all (thousands per second at high rates, all garbage).
   * @defaultValue true
   */
  historyOn?: boolean;
}

const PASSWORD = 'faultline-load-Pa55';

function err(r: TCallResult): string | undefined {
  if (r.interrupted) return 'interrupted';
  if (r.errorKind) return r.errorKind;
  const e = (r.json as { error?: { code?: string; message?: string } } | undefined)?.error;
  return e ? `${e.code ?? 'error'}: ${e.message ?? ''}`.trim() : r.status >= 400 ? `http_${r.status}` : undefined;
}

/** Outcome of a write: 2xx ok, 4xx fail (definitely not applied), anything else unknown. */
function writeOutcome(r: TCallResult, okStatus: number): 'ok' | 'fail' | 'info' {
  if (r.status === okStatus) return 'ok';
  if (r.status >= 400 && r.status < 500) return 'fail';
  return 'info';
}

export class SetupError extends Error {}

/** Register and log in `users` users (bounded concurrency), then pick products with stock. */
export async function shopSetup(s: TScenario, io: TShopIO, runTag: string): Promise<TShopData> {
  const users: TShopUser[] = [];
  const n = s.setup.users;
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      const email = `load-${runTag}-${i}@faultline.test`;
      io.history({ type: 'invoke', f: 'register', process: 0, value: {} });
      const reg = await io.call('register', {
        method: 'POST',
        path: '/users',
        body: { email, password: PASSWORD, name: `load ${i}` },
        route: 'POST /users',
        expected: 201,
      });
      io.history({
        type: reg.status === 201 ? 'ok' : 'fail',
        f: 'register',
        process: 0,
        value: { status: reg.status, error: err(reg) },
        latencyMs: reg.latencyMs,
        route: 'POST /users',
      });
      if (reg.status !== 201) throw new SetupError(`register ${email}: ${err(reg) ?? `status ${reg.status}`}`);
      io.history({ type: 'invoke', f: 'login', process: 0, value: {} });
      const login = await io.call('login', { method: 'POST', path: '/login', body: { email, password: PASSWORD }, route: 'POST /login', expected: 200 });
      io.history({
        type: login.status === 200 ? 'ok' : 'fail',
        f: 'login',
        process: 0,
        value: { status: login.status, error: err(login) },
        latencyMs: login.latencyMs,
        route: 'POST /login',
      });
      const body = login.json as { token?: string; userId?: string } | undefined;
      if (login.status !== 200 || !body?.token) throw new SetupError(`login ${email}: ${err(login) ?? `status ${login.status}`}`);
      users[i] = { email, userId: body.userId, token: body.token, orders: [] };
    }
  };
  await Promise.all(Array.from({ length: Math.min(10, n) }, worker));

  let products: TShopData['products'] = [];
  if (s.setup.products > 0) {
    const r = await io.call('browse', { method: 'GET', path: '/products', route: 'GET /products', expected: 200 });
    const list = (r.json as { products?: { id: string | number; priceCents: number; available?: number }[] } | undefined)?.products;
    if (r.status !== 200 || !Array.isArray(list)) throw new SetupError(`GET /products: ${err(r) ?? `status ${r.status}`}`);
    products = list
      .filter((p) => (p.available ?? 1) > 0)
      .slice(0, s.setup.products)
      .map((p) => ({ id: String(p.id), priceCents: p.priceCents }));
    if (products.length === 0) throw new SetupError('GET /products: no product with stock');
  }
  return { users, products };
}

/** Weighted pick over the mix; `r` in [0,1). */
export function pickAction(mix: Record<TShopAction, number>, r: number): TShopAction {
  const entries = Object.entries(mix) as [TShopAction, number][];
  const total = entries.reduce((s, [, w]) => s + w, 0);
  let x = r * total;
  for (const [a, w] of entries) {
    if (x < w) return a;
    x -= w;
  }
  return entries.filter(([, w]) => w > 0).at(-1)![0];
}

const rnd = (n: number) => Math.floor(Math.random() * n);

type TUser = TShopData['users'][number];

/** A GET whose answer is not read (browse, view_product): cheap for the generator at high rates. */
async function readOnly(io: TShopIO, vu: number, hOn: boolean, f: 'browse' | 'view_product', route: string, path: string): Promise<void> {
  if (hOn) io.history({ type: 'invoke', f, process: vu, value: {}, route });
  const r = await io.call(f, { method: 'GET', path, route, expected: 200, readBody: false });
  if (hOn)
    io.history({
      type: r.status === 200 ? 'ok' : 'fail',
      f,
      process: vu,
      value: { status: r.status, error: err(r) },
      latencyMs: r.latencyMs,
      correctedLatencyMs: r.correctedLatencyMs,
      route,
    });
}

/** A checkout of 1..maxItems distinct products; an acknowledged order joins the user's list. */
async function checkout(s: TScenario, data: TShopData, io: TShopIO, vu: number, hOn: boolean, u: TUser): Promise<void> {
  const count = 1 + rnd(Math.min(s.checkout.maxItems, data.products.length));
  const pool = [...data.products];
  const items: { productId: string; qty: number }[] = [];
  for (let i = 0; i < count; i++) items.push({ productId: pool.splice(rnd(pool.length), 1)[0].id, qty: 1 + rnd(s.checkout.maxQty) });
  const key = randomUUID();
  if (hOn) io.history({ type: 'invoke', f: 'checkout', process: vu, value: { idempotencyKey: key, key, items }, route: 'POST /checkout' });
  const r = await io.call('checkout', {
    method: 'POST',
    path: '/checkout',
    body: { items },
    token: u.token,
    idempotencyKey: key,
    route: 'POST /checkout',
    expected: 201,
  });
  const b = (r.json ?? {}) as { orderId?: string | number; totalCents?: number; status?: string; error?: { orderId?: string | number } };
  const orderId = b.orderId ?? b.error?.orderId;
  const outcome = writeOutcome(r, 201);
  if (outcome === 'ok' && orderId !== undefined) u.orders.push({ id: String(orderId), totalCents: b.totalCents });
  if (hOn)
    io.history({
      type: outcome,
      f: 'checkout',
      process: vu,
      value: {
        idempotencyKey: key,
        // `key`: the request's own key, in the field any target's history check reads
        key,
        items,
        status: r.status,
        // `id`: the written entity, in the field any target's acknowledged-write check reads
        ...(orderId !== undefined ? { orderId: String(orderId), id: String(orderId) } : {}),
        ...(b.totalCents !== undefined ? { totalCents: b.totalCents } : {}),
        // the acknowledged total, where a target's `agree` reads recorded response values
        ...(outcome === 'ok' && b.totalCents !== undefined ? { fields: { '$.totalCents': b.totalCents } } : {}),
        error: outcome === 'ok' ? undefined : err(r),
      },
      latencyMs: r.latencyMs,
      correctedLatencyMs: r.correctedLatencyMs,
      route: 'POST /checkout',
    });
}

/** Read one of the user's orders. */
async function orderStatus(io: TShopIO, vu: number, hOn: boolean, u: TUser): Promise<void> {
  const o = u.orders[rnd(u.orders.length)];
  if (hOn) io.history({ type: 'invoke', f: 'order_status', process: vu, value: { orderId: o.id }, route: 'GET /orders/:id' });
  const r = await io.call('order_status', {
    method: 'GET',
    path: `/orders/${encodeURIComponent(o.id)}`,
    token: u.token,
    route: 'GET /orders/:id',
    expected: 200,
  });
  const b = (r.json ?? {}) as { status?: string; totalCents?: number };
  if (hOn)
    io.history({
      type: r.status === 200 ? 'ok' : 'fail',
      f: 'order_status',
      process: vu,
      value: {
        orderId: o.id,
        status: r.status,
        ...(b.totalCents !== undefined ? { totalCents: b.totalCents } : {}),
        error: r.status === 200 ? undefined : err(r),
      },
      latencyMs: r.latencyMs,
      correctedLatencyMs: r.correctedLatencyMs,
      route: 'GET /orders/:id',
    });
}

/** Cancel one of the user's orders. */
async function cancel(io: TShopIO, vu: number, hOn: boolean, u: TUser): Promise<void> {
  // taken off the list first: a second cancel of the same order would only measure the 409
  const o = u.orders.splice(rnd(u.orders.length), 1)[0];
  if (hOn) io.history({ type: 'invoke', f: 'cancel', process: vu, value: { orderId: o.id, id: o.id }, route: 'POST /orders/:id/cancel' });
  const r = await io.call('cancel', {
    method: 'POST',
    path: `/orders/${encodeURIComponent(o.id)}/cancel`,
    body: {},
    token: u.token,
    route: 'POST /orders/:id/cancel',
    expected: 200,
  });
  const outcome = writeOutcome(r, 200);
  if (hOn)
    io.history({
      type: outcome,
      f: 'cancel',
      process: vu,
      value: { orderId: o.id, id: o.id, status: r.status, error: outcome === 'ok' ? undefined : err(r) },
      latencyMs: r.latencyMs,
      correctedLatencyMs: r.correctedLatencyMs,
      route: 'POST /orders/:id/cancel',
    });
}

/** One iteration: one request of the weighted mix for VU `vu`. */
export async function shopIteration(s: TScenario, data: TShopData, io: TShopIO, vu: number): Promise<void> {
  const hOn = io.historyOn !== false;
  let action = pickAction(s.mix, Math.random());
  const user = data.users.length ? data.users[(vu - 1) % data.users.length] : undefined;
  // reading or cancelling needs one of this user's orders; without one the iteration browses
  if ((action === 'order_status' || action === 'cancel') && !user?.orders.length) action = 'browse';

  switch (action) {
    case 'browse':
      // the product list is not needed here: discarding it keeps the generator cheap at high rates
      return readOnly(io, vu, hOn, 'browse', 'GET /products', '/products');
    case 'view_product': {
      const p = data.products[rnd(data.products.length)];
      return readOnly(io, vu, hOn, 'view_product', 'GET /products/:id', `/products/${encodeURIComponent(p.id)}`);
    }
    case 'checkout':
      return checkout(s, data, io, vu, hOn, user!);
    case 'order_status':
      return orderStatus(io, vu, hOn, user!);
    case 'cancel':
      return cancel(io, vu, hOn, user!);
  }
}
