/** Small client helpers for shop integration tests (real HTTP through the gateway). */
import { randomUUID } from 'node:crypto';
import pg from 'pg';

export async function api(base: string, method: string, path: string, opts: { body?: unknown; token?: string; key?: string; headers?: Record<string, string> } = {}) {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.key) headers['idempotency-key'] = opts.key;
  const res = await fetch(`${base}${path}`, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
  const text = await res.text();
  let body: any = undefined;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = text;
  }
  return { status: res.status, body, headers: res.headers };
}

export async function login(base: string, email = 'alice@shop.test', password = 'alice-password'): Promise<string> {
  const r = await api(base, 'POST', '/login', { body: { email, password } });
  if (r.status !== 200) throw new Error(`login failed: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.token as string;
}

export async function productBySku(base: string, sku: string): Promise<{ id: string; priceCents: number; available: number }> {
  const r = await api(base, 'GET', '/products');
  const p = r.body.products.find((x: { sku: string }) => x.sku === sku);
  if (!p) throw new Error(`no product ${sku}`);
  return p;
}

export function checkout(base: string, token: string, items: { productId: string; qty: number }[], key: string = randomUUID()) {
  return api(base, 'POST', '/checkout', { token, key, body: { items } });
}

/** One-off query on the shop database. */
export async function q<T = any>(dbUrl: string, text: string, params: unknown[] = []): Promise<T[]> {
  const c = new pg.Client({ connectionString: dbUrl });
  await c.connect();
  try {
    return (await c.query(text, params)).rows as T[];
  } finally {
    await c.end();
  }
}

/** Poll `fn` until it returns a truthy value or `ms` pass (bounded; returns the last value). */
export async function waitFor<T>(fn: () => Promise<T>, ms = 10_000, every = 100): Promise<T> {
  const until = Date.now() + ms;
  let last = await fn();
  while (!last && Date.now() < until) {
    await new Promise((r) => setTimeout(r, every));
    last = await fn();
  }
  return last;
}

export async function stockOf(dbUrl: string, productId: string) {
  const [row] = await q<{ initial: number; available: number; reserved: number; sold: number }>(dbUrl, 'SELECT initial, available, reserved, sold FROM catalog.stock WHERE product_id = $1', [productId]);
  return row;
}

/** Sum of the samples of `name` on an instance's /metrics whose labels include all of `labels`. */
export async function metric(url: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got: Record<string, string> = {};
    for (const lm of (m[3] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) got[lm[1]] = lm[2];
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) sum += Number(m[4]);
  }
  return sum;
}

export function instanceUrl(shop: { instances: { id: string; url: string }[] }, id: string): string {
  const i = shop.instances.find((x) => x.id === id);
  if (!i) throw new Error(`no instance ${id}`);
  return i.url;
}
