/**
 * gateway: the only public entry. Bearer auth (token introspection at users,
 * cached briefly), per-client token-bucket rate limit (429 + Retry-After),
 * request ids propagated downstream, routing to users/catalog/orders, and a
 * last-good fallback for the product list.
 */
import { z } from 'zod';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ShopError, parseWith } from '../../lib/errors.js';
import { CallError, type EdgeClient, type TCallRequest } from '../../lib/client.js';
import type { TServiceContext } from '../../lib/service-context.js';
import { TokenBucketLimiter } from './rate-limit.js';

const TOKEN_CACHE_MS = 30_000;
const TOKEN_CACHE_MAX = 10_000;
/** Downstream answer headers the public API keeps. */
const PASSED_HEADERS = ['idempotent-replayed', 'x-cache', 'retry-after'];

const IdParams = z.object({ id: z.string().regex(/^\d{1,20}$/, 'expected a numeric id string') });

/** Call downstream; failures become the right public status. */
async function forwardCall(client: EdgeClient, call: TCallRequest, req: FastifyRequest) {
  try {
    return await client.call({ ...call, headers: { 'x-request-id': String(req.id), ...call.headers } });
  } catch (e) {
    if (e instanceof CallError) {
      if (e.kind === 'server_error' && e.status && e.body && typeof e.body === 'object' && 'error' in e.body) {
        // The service's own error (e.g. 503 payment_unavailable): pass it on as it is.
        const err = (e.body as { error: { code: string; message: string } }).error;
        throw new ShopError(e.status, err.code, err.message);
      }
      if (e.kind === 'timeout') throw new ShopError(504, 'upstream_timeout', e.message);
      throw new ShopError(503, e.kind === 'breaker_open' ? 'upstream_circuit_open' : 'upstream_unavailable', e.message);
    }
    throw e;
  }
}

function send(reply: FastifyReply, r: { status: number; body: unknown; headers: Record<string, string | string[] | undefined> }) {
  for (const h of PASSED_HEADERS) {
    const v = r.headers[h];
    if (typeof v === 'string') reply.header(h, v);
  }
  return reply.status(r.status).send(r.body);
}

/** Per-client token bucket on every public route (429 + Retry-After). */
function addRateLimit(ctx: TServiceContext): void {
  const { metrics, settings } = ctx;
  const limiter = new TokenBucketLimiter({ ratePerSec: settings.rateLimitRps, burst: settings.rateLimitBurst });
  ctx.app.addHook('onRequest', async (req, reply) => {
    const path = req.url.split('?')[0];
    if (path === '/health' || path === '/metrics' || path.startsWith('/__admin')) return;
    const auth = req.headers.authorization;
    const client = auth?.startsWith('Bearer ')
      ? `t:${auth.slice(7)}`
      : typeof req.headers['x-client-id'] === 'string'
        ? `c:${req.headers['x-client-id']}`
        : `ip:${req.ip}`;
    const wait = limiter.take(client);
    if (wait > 0) {
      metrics.rateLimited.inc({ service: ctx.service });
      reply.header('retry-after', String(Math.max(1, Math.ceil(wait / 1000))));
      throw new ShopError(429, 'rate_limited', `rate limit of ${settings.rateLimitRps} requests/s exceeded; retry after ${Math.ceil(wait)} ms`);
    }
  });
}

/** Bearer auth: token introspection at users, cached briefly; resolves to the user id. */
function authenticator(users: EdgeClient): (req: FastifyRequest) => Promise<string> {
  const tokenCache = new Map<string, { userId: string; until: number }>();
  return async (req) => {
    const auth = req.headers.authorization;
    if (!auth?.startsWith('Bearer ') || auth.length < 17) throw new ShopError(401, 'unauthenticated', 'header Authorization: Bearer <token> is required');
    const token = auth.slice(7);
    const hit = tokenCache.get(token);
    if (hit && hit.until > Date.now()) return hit.userId;
    const r = await forwardCall(users, { method: 'GET', path: `/tokens/${encodeURIComponent(token)}`, idempotent: true }, req);
    if (r.status === 404) throw new ShopError(401, 'invalid_token', 'token unknown or expired');
    if (r.status !== 200) throw new ShopError(502, 'bad_upstream', `users answered ${r.status}`);
    const body = r.body as { userId: string; expiresAt: string };
    if (tokenCache.size >= TOKEN_CACHE_MAX) tokenCache.delete(tokenCache.keys().next().value!);
    tokenCache.set(token, { userId: body.userId, until: Math.min(Date.now() + TOKEN_CACHE_MS, Date.parse(body.expiresAt)) });
    return body.userId;
  };
}

/** Users and products: sign-up, log-in, and the catalog with its last-good fallback. */
function addPublicRoutes(ctx: TServiceContext, users: EdgeClient, catalog: EdgeClient): void {
  const { app, metrics, settings } = ctx;
  let lastProducts: unknown;
  // Password hashing (scrypt) is deliberately slow: these two get a wider timeout than plain reads.
  const hashTimeoutMs = settings.clientTimeoutMs * 5;
  app.post('/users', async (req, reply) =>
    send(reply, await forwardCall(users, { method: 'POST', path: '/users', body: req.body ?? {}, timeoutMs: hashTimeoutMs }, req)),
  );
  app.post('/login', async (req, reply) =>
    send(reply, await forwardCall(users, { method: 'POST', path: '/login', body: req.body ?? {}, timeoutMs: hashTimeoutMs }, req)),
  );

  app.get('/products', async (req, reply) => {
    try {
      const r = await forwardCall(catalog, { method: 'GET', path: '/products', idempotent: true }, req);
      if (r.status === 200) lastProducts = r.body;
      return send(reply, r);
    } catch (e) {
      if (lastProducts === undefined) throw e;
      // Catalog unreachable: the last good list beats an error page for browsing.
      metrics.cacheFallbacks.inc({ service: ctx.service, cache: 'products' });
      reply.header('x-cache', 'fallback');
      return reply.status(200).send(lastProducts);
    }
  });

  app.get('/products/:id', async (req, reply) => {
    const { id } = parseWith(IdParams, req.params, 'params');
    return send(reply, await forwardCall(catalog, { method: 'GET', path: `/products/${id}`, idempotent: true }, req));
  });
}

/** Checkout and the user's orders (authenticated). */
function addOrderRoutes(ctx: TServiceContext, orders: EdgeClient, authenticate: (req: FastifyRequest) => Promise<string>): void {
  const { app, settings } = ctx;
  app.post('/checkout', async (req, reply) => {
    const userId = await authenticate(req);
    const key = req.headers['idempotency-key'];
    if (typeof key !== 'string' || key === '') throw new ShopError(400, 'idempotency_key_required', 'header Idempotency-Key is required');
    // The saga makes several calls with their own retries: give it a wider budget, and never
    // retry a sent checkout here (the key would make it answer 409 in flight anyway).
    const r = await forwardCall(
      orders,
      {
        method: 'POST',
        path: '/checkout',
        body: req.body ?? {},
        headers: { 'x-user-id': userId, 'idempotency-key': key },
        timeoutMs: settings.clientTimeoutMs * 10,
      },
      req,
    );
    return send(reply, r);
  });

  app.get('/orders/:id', async (req, reply) => {
    const userId = await authenticate(req);
    const { id } = parseWith(IdParams, req.params, 'params');
    return send(reply, await forwardCall(orders, { method: 'GET', path: `/orders/${id}`, headers: { 'x-user-id': userId }, idempotent: true }, req));
  });

  app.post('/orders/:id/cancel', async (req, reply) => {
    const userId = await authenticate(req);
    const { id } = parseWith(IdParams, req.params, 'params');
    return send(
      reply,
      await forwardCall(
        orders,
        { method: 'POST', path: `/orders/${id}/cancel`, headers: { 'x-user-id': userId }, timeoutMs: settings.clientTimeoutMs * 5 },
        req,
      ),
    );
  });
}

export async function setup(ctx: TServiceContext) {
  const users = ctx.client('users');
  const catalog = ctx.client('catalog');
  const orders = ctx.client('orders');
  addRateLimit(ctx);
  addPublicRoutes(ctx, users, catalog);
  addOrderRoutes(ctx, orders, authenticator(users));
}
