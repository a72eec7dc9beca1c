/**
 * A small in-memory stand-in for the shop gateway (same routes and bodies as
 * docs/architecture.md) so engine tests run without the real shop. Each
 * instance listens on a random loopback port.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface TFakeShopOptions {
  /** Extra delay per request in ms (may depend on the route). */
  delayMs?: (method: string, path: string) => number;
  /** Status to answer instead of handling the request (undefined = handle). */
  failWith?: (method: string, path: string) => number | undefined;
}

export interface TFakeShop {
  url: string;
  counts: Record<string, number>;
  orders: Map<string, { id: string; userId: string; key: string; status: string; totalCents: number }>;
  close(): Promise<void>;
}

export async function startFakeShop(opts: TFakeShopOptions = {}): Promise<TFakeShop> {
  const users = new Map<string, { id: string; password: string }>();
  const tokens = new Map<string, string>();
  const products = [
    { id: '9007199254740993', sku: 'A', name: 'Anvil', priceCents: 1500, available: 1000 },
    { id: '9007199254740995', sku: 'B', name: 'Bucket', priceCents: 700, available: 1000 },
    { id: '9007199254740997', sku: 'C', name: 'Crate', priceCents: 300, available: 0 },
  ];
  const orders: TFakeShop['orders'] = new Map();
  const byKey = new Map<string, string>();
  const counts: Record<string, number> = {};
  let seq = 1;

  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const readBody = async (req: IncomingMessage) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const t = Buffer.concat(chunks).toString();
    return t ? JSON.parse(t) : {};
  };

  const server = createServer(async (req, res) => {
    const method = req.method ?? 'GET';
    const path = (req.url ?? '/').split('?')[0];
    const route = `${method} ${path.replace(/\/\d+/g, '/:id')}`;
    counts[route] = (counts[route] ?? 0) + 1;
    const body = await readBody(req);
    const delay = opts.delayMs?.(method, path) ?? 0;
    if (delay > 0) await new Promise((r) => setTimeout(r, delay));
    const fail = opts.failWith?.(method, path);
    if (fail) return json(res, fail, { error: { code: 'INJECTED', message: 'injected failure' } });
    const auth = /^Bearer (.+)$/.exec(String(req.headers.authorization ?? ''))?.[1];
    const userId = auth ? tokens.get(auth) : undefined;
    let m: RegExpExecArray | null;
    if (method === 'POST' && path === '/users') {
      if (users.has(body.email)) return json(res, 409, { error: { code: 'CONFLICT', message: 'email exists' } });
      const id = String(seq++);
      users.set(body.email, { id, password: body.password });
      return json(res, 201, { id, email: body.email });
    }
    if (method === 'POST' && path === '/login') {
      const u = users.get(body.email);
      if (!u || u.password !== body.password) return json(res, 401, { error: { code: 'UNAUTHORIZED', message: 'bad credentials' } });
      const token = `t${seq++}`;
      tokens.set(token, u.id);
      return json(res, 200, { token, userId: u.id, expiresAt: new Date(Date.now() + 3600_000).toISOString() });
    }
    if (method === 'GET' && path === '/products') return json(res, 200, { products });
    if (method === 'GET' && (m = /^\/products\/(\d+)$/.exec(path))) {
      const p = products.find((x) => x.id === m![1]);
      return p ? json(res, 200, p) : json(res, 404, { error: { code: 'NOT_FOUND', message: 'no product' } });
    }
    if (!userId) return json(res, 401, { error: { code: 'UNAUTHORIZED', message: 'no token' } });
    if (method === 'POST' && path === '/checkout') {
      const key = req.headers['idempotency-key'];
      if (typeof key !== 'string') return json(res, 400, { error: { code: 'VALIDATION', message: 'Idempotency-Key required' } });
      const existing = byKey.get(key);
      if (existing) {
        const o = orders.get(existing)!;
        return json(res, 201, { orderId: o.id, status: o.status, totalCents: o.totalCents });
      }
      let total = 0;
      for (const it of body.items ?? []) {
        const p = products.find((x) => x.id === it.productId);
        if (!p) return json(res, 404, { error: { code: 'NOT_FOUND', message: 'no product' } });
        total += p.priceCents * it.qty;
      }
      const id = String(10_000 + seq++);
      orders.set(id, { id, userId, key, status: 'confirmed', totalCents: total });
      byKey.set(key, id);
      return json(res, 201, { orderId: id, status: 'confirmed', totalCents: total });
    }
    if (method === 'GET' && (m = /^\/orders\/(\d+)$/.exec(path))) {
      const o = orders.get(m[1]);
      if (!o || o.userId !== userId) return json(res, 404, { error: { code: 'NOT_FOUND', message: 'no order' } });
      return json(res, 200, { id: o.id, status: o.status, totalCents: o.totalCents, items: [], createdAt: '', updatedAt: '' });
    }
    if (method === 'POST' && (m = /^\/orders\/(\d+)\/cancel$/.exec(path))) {
      const o = orders.get(m[1]);
      if (!o || o.userId !== userId) return json(res, 404, { error: { code: 'NOT_FOUND', message: 'no order' } });
      if (o.status !== 'confirmed') return json(res, 409, { error: { code: 'CONFLICT', message: 'not cancellable' } });
      o.status = 'cancelled';
      return json(res, 200, { id: o.id, status: o.status, totalCents: o.totalCents });
    }
    json(res, 404, { error: { code: 'NOT_FOUND', message: 'no route' } });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    counts,
    orders,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
