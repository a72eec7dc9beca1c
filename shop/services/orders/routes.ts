/**
 * orders' public routes: POST /checkout (idempotent by user + key, replays
 * the first answer), GET /orders/:id, POST /orders/:id/cancel.
 */
import { createHash } from 'node:crypto';
import { and, eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { shopSchema as s } from '../../db/index.js';
import type { TOrderItem } from '../../db/schema/orders.js';
import { ShopError, parseWith } from '../../lib/errors.js';
import { DEPENDENCY_FAILURE_HEADER } from '../../lib/client.js';
import { compensate, runCheckout } from './saga.js';
import { answerFor, loadOrder, type TOrderDraft, type TOrderRow, type TOrders } from './state.js';

const Id = z.string().regex(/^\d{1,20}$/, 'expected a numeric id string');
export const CheckoutSchema = z.object({
  items: z
    .array(z.object({ productId: Id, qty: z.number().int().min(1).max(100) }))
    .min(1)
    .max(20)
    .refine((items) => new Set(items.map((i) => i.productId)).size === items.length, 'each product at most once'),
});
type TCheckout = z.infer<typeof CheckoutSchema>;

function userId(headers: Record<string, unknown>): string {
  const v = headers['x-user-id'];
  if (typeof v !== 'string' || !/^\d{1,20}$/.test(v)) throw new ShopError(401, 'unauthenticated', 'missing caller identity (x-user-id)');
  return v;
}

function idempotencyKey(headers: Record<string, unknown>): string {
  const raw = headers['idempotency-key'];
  const key = Array.isArray(raw) ? raw[0] : raw;
  if (typeof key !== 'string' || !key) throw new ShopError(400, 'idempotency_key_required', 'header Idempotency-Key is required');
  if (key.length > 255) throw new ShopError(400, 'invalid_request', 'header Idempotency-Key: at most 255 characters');
  return key;
}

/** Prices come from the catalog (a read: retried, falls back to its cache there). */
async function price(o: TOrders, body: TCheckout): Promise<TOrderItem[]> {
  let products: { id: string; priceCents: number }[];
  try {
    const ids = body.items.map((i) => i.productId).join(',');
    const r = await o.catalog.call<{ products: { id: string; priceCents: number }[] }>({ method: 'GET', path: `/products?ids=${ids}`, idempotent: true });
    if (r.status !== 200) throw new Error(`catalog answered ${r.status}`);
    products = r.body.products;
  } catch (e) {
    throw new ShopError(503, 'catalog_unavailable', `cannot price the order: ${(e as Error).message}`, { [DEPENDENCY_FAILURE_HEADER]: 'true' });
  }
  return body.items.map((i, n) => {
    const p = products.find((x) => x.id === i.productId);
    if (!p) throw new ShopError(404, 'product_not_found', `body.items.${n}.productId: product ${i.productId} does not exist`);
    return { productId: i.productId, qty: i.qty, priceCents: p.priceCents };
  });
}

/** Order, saga and first event in one statement (atomic without a multi-round-trip transaction); undefined when the key was taken. */
async function createOrder(o: TOrders, user: string, key: string, requestHash: string, priced: TOrderItem[]): Promise<TOrderDraft | undefined> {
  const totalCents = priced.reduce((a, i) => a + i.qty * i.priceCents, 0);
  const orderId = o.nextId();
  const deadline = new Date(Date.now() + o.settings.sagaDeadlineMs);
  const ins = await o.db.execute<{ id: string }>(sql`
    WITH o AS (
      INSERT INTO orders.orders (id, user_id, idempotency_key, request_hash, status, total_cents, items)
      VALUES (${orderId}, ${user}, ${key}, ${requestHash}, 'pending', ${totalCents}, ${JSON.stringify(priced)}::jsonb)
      ON CONFLICT (user_id, idempotency_key) DO NOTHING
      RETURNING id),
    sg AS (INSERT INTO orders.sagas (order_id, state, step, deadline_at) SELECT id, 'started', 'checkout', ${deadline.toISOString()}::timestamptz FROM o),
    ev AS (INSERT INTO orders.order_events (order_id, from_status, to_status) SELECT id, NULL, 'pending' FROM o)
    SELECT id::text FROM o`);
  if (!ins.rows[0]) return undefined;
  o.metrics.sagaTransitions.inc({ ...o.svc, from: 'none', to: 'started' });
  return { id: orderId, totalCents, items: priced };
}

function checkoutRoute(o: TOrders) {
  return async (req: { headers: Record<string, unknown>; body: unknown }, reply: FastifyReply) => {
    const user = userId(req.headers);
    const key = idempotencyKey(req.headers);
    const body = parseWith(CheckoutSchema, req.body);
    const requestHash = createHash('sha256')
      .update(JSON.stringify([...body.items].sort((a, b) => a.productId.localeCompare(b.productId))))
      .digest('hex');

    const replay = async (): Promise<boolean> => {
      const [row] = await o.db
        .select()
        .from(s.orders)
        .where(and(eq(s.orders.userId, user), eq(s.orders.idempotencyKey, key)));
      if (!row) return false;
      if (row.requestHash !== requestHash) throw new ShopError(422, 'idempotency_key_reused', `Idempotency-Key ${key} was used with a different request body`);
      const a = answerFor(row);
      if (a.status >= 500) reply.header(DEPENDENCY_FAILURE_HEADER, 'true');
      reply.header('idempotent-replayed', 'true').status(a.status).send(a.body);
      return true;
    };
    if (await replay()) return reply;

    const created = await createOrder(o, user, key, requestHash, await price(o, body));
    if (!created) {
      // A concurrent request with the same key won the insert.
      if (await replay()) return reply;
      throw new ShopError(409, 'idempotency_key_in_flight', `checkout with Idempotency-Key ${key} is in flight`);
    }
    const a = await runCheckout(o, created);
    if (a.status >= 500) reply.header(DEPENDENCY_FAILURE_HEADER, 'true');
    return reply.status(a.status).send(a.body);
  };
}

const view = (o: TOrderRow) => ({
  id: o.id,
  status: o.status,
  totalCents: o.totalCents,
  items: o.items,
  failureReason: o.failureReason,
  createdAt: o.createdAt.toISOString(),
  updatedAt: o.updatedAt.toISOString(),
});

export function registerRoutes(app: FastifyInstance, o: TOrders): void {
  app.post('/checkout', checkoutRoute(o));

  app.get('/orders/:id', async (req) => {
    const user = userId(req.headers);
    const { id } = parseWith(z.object({ id: Id }), req.params, 'params');
    const order = await loadOrder(o, id);
    if (!order || order.userId !== user) throw new ShopError(404, 'not_found', `order ${id} not found`);
    return view(order);
  });

  app.post('/orders/:id/cancel', async (req) => {
    const user = userId(req.headers);
    const { id } = parseWith(z.object({ id: Id }), req.params, 'params');
    const order = await loadOrder(o, id);
    if (!order || order.userId !== user) throw new ShopError(404, 'not_found', `order ${id} not found`);
    if (order.status !== 'confirmed') throw new ShopError(409, 'not_cancellable', `order ${id} is ${order.status}; only confirmed orders can be cancelled`);
    const [saga] = await o.db.select().from(s.sagas).where(eq(s.sagas.orderId, id));
    if (saga?.state !== 'completed') throw new ShopError(409, 'not_cancellable', `order ${id} is already being cancelled`);
    const done = await compensate(o, id, 'cancelled', 'cancelled_by_user', { refund: true });
    if (!done)
      throw new ShopError(503, 'cancel_incomplete', `order ${id}: refund or stock release unavailable; the cancellation completes in the background`, {
        [DEPENDENCY_FAILURE_HEADER]: 'true',
      });
    return view((await loadOrder(o, id))!);
  });
}
