/** Small client helpers for shop integration tests (real HTTP through the gateway). */
import { randomUUID } from 'node:crypto';
import pg from 'pg';

export async function api(
  base: string,
  method: string,
  path: string,
  opts: { body?: unknown; token?: string; key?: string; headers?: Record<string, string> } = {},
) {
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
  const [row] = await q<{ initial: number; available: number; reserved: number; sold: number }>(
    dbUrl,
    'SELECT initial, available, reserved, sold FROM catalog.stock WHERE product_id = $1',
    [productId],
  );
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

/** A counting TCP forwarder standing in for a fault proxy: listen on a free port, pipe to `upstream`. */
export async function tcpForwarder(upstream: string): Promise<{ address: string; connections: () => number; close: () => Promise<void> }> {
  const net = await import('node:net');
  const [host, port] = [upstream.slice(0, upstream.lastIndexOf(':')), Number(upstream.slice(upstream.lastIndexOf(':') + 1))];
  let connections = 0;
  const sockets = new Set<import('node:net').Socket>();
  const server = net.createServer((client) => {
    connections++;
    const up = net.connect(port, host);
    sockets.add(client).add(up);
    client.pipe(up).pipe(client);
    const end = () => {
      client.destroy();
      up.destroy();
      sockets.delete(client);
      sockets.delete(up);
    };
    client.on('error', end).on('close', end);
    up.on('error', end).on('close', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address() as import('node:net').AddressInfo;
  return {
    address: `127.0.0.1:${addr.port}`,
    connections: () => connections,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** Collects an instance's JSON log lines (a pino destination). */
export function logSink(): { write(line: string): void; lines: () => Record<string, any>[] } {
  const buf: string[] = [];
  return {
    write(line: string) {
      buf.push(line);
    },
    lines: () =>
      buf
        .flatMap((l) => l.split('\n'))
        .filter(Boolean)
        .map((l) => JSON.parse(l)),
  };
}
