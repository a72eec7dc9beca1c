/**
 * catalog: products, stock and reservations. Owns the `catalog` schema.
 *
 * Stock per product: initial = available + reserved + sold.
 *   reserve  (order, product): available -> reserved        (status reserved)
 *   commit   (order):          reserved  -> sold            (status committed)
 *   release  (order):          reserved|sold -> available   (status released)
 * Each step is idempotent per (order, product): repeating it changes nothing.
 * Steps of one order are serialised (a transaction-scoped advisory lock on
 * the order), so a retried reservation that overlaps its own first attempt
 * (the caller timed out while the first was still running) waits for it and
 * answers from its rows, instead of conflicting with them or reading the
 * stock it took as a false `out_of_stock`.
 *
 * Product reads fall back to a Redis copy when Postgres fails.
 */
import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import { z } from 'zod';
import { shopSchema as s } from '../../db/index.js';
import { ShopError, parseWith } from '../../lib/errors.js';
import type { TServiceContext } from '../../lib/service-context.js';

const Id = z.string().regex(/^\d{1,20}$/, 'expected a numeric id string');
export const ReserveSchema = z.object({
  orderId: Id,
  items: z
    .array(z.object({ productId: Id, qty: z.number().int().min(1).max(1000) }))
    .min(1)
    .max(50),
});

type TProduct = { id: string; sku: string; name: string; priceCents: number; available: number };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type TTx = Parameters<Parameters<ReturnType<TServiceContext['db']>['transaction']>[0]>[0];

/**
 * Serialise the reservation steps of one order until the transaction ends.
 * The key is namespaced: payments locks the bare order id in the same database.
 */
async function lockOrder(tx: TTx, orderId: string): Promise<void> {
  await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtextextended(${`catalog.reservations:${orderId}`}, 0))`);
}

/** Move `qty` of a product from available to reserved (refused when not enough is available). */
async function takeStock(ctx: TServiceContext, tx: TTx, it: { productId: string; qty: number }): Promise<void> {
  if (ctx.bugs.has('oversell')) {
    // BUG (oversell): unlocked read-modify-write. Two reservations read the
    // same `available` and both write it back minus their own qty (lost
    // update). The pause stands for a slow network round trip and makes the
    // race show at test concurrency.
    const [st] = await tx.select().from(s.stock).where(eq(s.stock.productId, it.productId));
    if (!st) throw new ShopError(404, 'not_found', `product ${it.productId} not found`);
    if (st.available < it.qty) throw new ShopError(409, 'out_of_stock', `product ${it.productId}: ${st.available} available, ${it.qty} requested`);
    await sleep(20);
    await tx
      .update(s.stock)
      .set({ available: st.available - it.qty, reserved: st.reserved + it.qty, version: st.version + 1 })
      .where(eq(s.stock.productId, it.productId));
  } else {
    const [st] = await tx.select().from(s.stock).where(eq(s.stock.productId, it.productId)).for('update');
    if (!st) throw new ShopError(404, 'not_found', `product ${it.productId} not found`);
    if (st.available < it.qty) throw new ShopError(409, 'out_of_stock', `product ${it.productId}: ${st.available} available, ${it.qty} requested`);
    await tx
      .update(s.stock)
      .set({ available: sql`${s.stock.available} - ${it.qty}`, reserved: sql`${s.stock.reserved} + ${it.qty}`, version: sql`${s.stock.version} + 1` })
      .where(eq(s.stock.productId, it.productId));
  }
}

/** Reserve every item for the order in one transaction; a repeat answers from the rows already there. */
async function reserve(
  ctx: TServiceContext,
  orderId: string,
  items: { productId: string; qty: number }[],
): Promise<{ productId: string; qty: number; status: string }[]> {
  return ctx.db().transaction(async (tx) => {
    await lockOrder(tx, orderId);
    const out: { productId: string; qty: number; status: string }[] = [];
    for (const it of items) {
      const [existing] = await tx
        .select()
        .from(s.reservations)
        .where(and(eq(s.reservations.orderId, orderId), eq(s.reservations.productId, it.productId)));
      if (existing) {
        if (existing.status === 'released') throw new ShopError(409, 'reservation_released', `order ${orderId} already released product ${it.productId}`);
        out.push({ productId: it.productId, qty: existing.qty, status: existing.status });
        continue;
      }
      await takeStock(ctx, tx, it);
      const ins = await tx
        .insert(s.reservations)
        .values({ id: ctx.nextId(), orderId: orderId, productId: it.productId, qty: it.qty, status: 'reserved' })
        .onConflictDoNothing()
        .returning({ id: s.reservations.id });
      // Cannot happen while every step takes the order lock; kept as a guard: undo this
      // transaction rather than count the stock twice.
      if (!ins[0]) throw new ShopError(409, 'reservation_released', `order ${orderId}: product ${it.productId} was released or reserved concurrently`);
      out.push({ productId: it.productId, qty: it.qty, status: 'reserved' });
    }
    return out;
  });
}

/** Move an order's reservations from one status to another, adjusting stock; idempotent. */
async function transition(ctx: TServiceContext, orderId: string, to: 'committed' | 'released', tombstones: string[] = []) {
  return ctx.db().transaction(async (tx) => {
    await lockOrder(tx, orderId);
    if (tombstones.length > 0) {
      // A release may overtake its own reservation (the reserve call timed out
      // but is still running). Released rows with qty 0 for products not yet
      // reserved make that late reservation fail instead of leaking stock.
      // (A reservation still running holds the order lock: we see its rows.)
      await tx
        .insert(s.reservations)
        .values(tombstones.map((productId) => ({ id: ctx.nextId(), orderId, productId, qty: 0, status: 'released' })))
        .onConflictDoNothing();
    }
    const from = to === 'committed' ? ['reserved'] : ['reserved', 'committed'];
    const rows = await tx
      .select()
      .from(s.reservations)
      .where(and(eq(s.reservations.orderId, orderId), inArray(s.reservations.status, from)))
      .orderBy(asc(s.reservations.productId))
      .for('update');
    for (const r of rows) {
      const qty = r.qty;
      const delta =
        to === 'committed'
          ? { reserved: sql`${s.stock.reserved} - ${qty}`, sold: sql`${s.stock.sold} + ${qty}` }
          : r.status === 'reserved'
            ? { reserved: sql`${s.stock.reserved} - ${qty}`, available: sql`${s.stock.available} + ${qty}` }
            : { sold: sql`${s.stock.sold} - ${qty}`, available: sql`${s.stock.available} + ${qty}` };
      await tx
        .update(s.stock)
        .set({ ...delta, version: sql`${s.stock.version} + 1` })
        .where(eq(s.stock.productId, r.productId));
      await tx.update(s.reservations).set({ status: to, updatedAt: new Date() }).where(eq(s.reservations.id, r.id));
    }
    return { orderId, [to]: rows.length };
  });
}

export async function setup(ctx: TServiceContext) {
  const { app, metrics, log } = ctx;
  const db = ctx.db();
  const cacheKey = `${ctx.redisPrefix}:cache:catalog:products`;
  let lastCacheWrite = 0;

  async function readProducts(ids?: string[]): Promise<TProduct[]> {
    const q = db
      .select({ id: s.products.id, sku: s.products.sku, name: s.products.name, priceCents: s.products.priceCents, available: s.stock.available })
      .from(s.products)
      .innerJoin(s.stock, eq(s.stock.productId, s.products.id))
      .orderBy(asc(s.products.id));
    return ids ? q.where(inArray(s.products.id, ids)) : q;
  }

  /** Products from Postgres; on failure from the Redis copy (stale `available`, flagged by x-cache). */
  async function productsWithFallback(ids: string[] | undefined, reply: { header(k: string, v: string): unknown }): Promise<TProduct[]> {
    try {
      const list = await readProducts(ids);
      if (!ids && Date.now() - lastCacheWrite > 1000) {
        lastCacheWrite = Date.now();
        ctx
          .cache()
          .set(cacheKey, JSON.stringify(list), 'EX', 3600)
          .catch(() => {});
      }
      return list;
    } catch (e) {
      const cached = await ctx
        .cache()
        .get(cacheKey)
        .catch(() => null);
      if (!cached) throw new ShopError(503, 'catalog_unavailable', `product store unavailable: ${(e as Error).message}`);
      metrics.cacheFallbacks.inc({ service: ctx.service, cache: 'products' });
      log.warn({ err: (e as Error).message }, 'products served from cache');
      reply.header('x-cache', 'fallback');
      const all = JSON.parse(cached) as TProduct[];
      return ids ? all.filter((p) => ids.includes(p.id)) : all;
    }
  }

  app.get('/products', async (req, reply) => {
    const q = parseWith(z.object({ ids: z.string().max(2000).optional() }), req.query, 'query');
    const ids = q.ids ? q.ids.split(',').map((x) => parseWith(Id, x.trim(), 'query.ids')) : undefined;
    return { products: await productsWithFallback(ids, reply) };
  });

  app.get('/products/:id', async (req, reply) => {
    const { id } = parseWith(z.object({ id: Id }), req.params, 'params');
    const [p] = await productsWithFallback([id], reply);
    if (!p) throw new ShopError(404, 'not_found', `product ${id} not found`);
    return p;
  });

  app.post('/reservations', async (req, reply) => {
    const body = parseWith(ReserveSchema, req.body);
    // Lock rows in product-id order so two reservations never deadlock.
    const items = [...body.items].sort((a, b) => (BigInt(a.productId) < BigInt(b.productId) ? -1 : 1));
    const seen = new Set<string>();
    for (const it of items) {
      if (seen.has(it.productId)) throw new ShopError(400, 'invalid_request', `body.items: product ${it.productId} listed twice`);
      seen.add(it.productId);
    }
    const result = await reserve(ctx, body.orderId, items);
    return reply.status(201).send({ orderId: body.orderId, items: result });
  });

  app.post('/reservations/:orderId/commit', async (req) => {
    const { orderId } = parseWith(z.object({ orderId: Id }), req.params, 'params');
    return transition(ctx, orderId, 'committed');
  });

  app.post('/reservations/:orderId/release', async (req) => {
    const { orderId } = parseWith(z.object({ orderId: Id }), req.params, 'params');
    const body = parseWith(z.object({ productIds: z.array(Id).max(50).optional() }).optional(), req.body ?? undefined);
    return transition(ctx, orderId, 'released', body?.productIds ?? []);
  });

  app.get('/reservations/:orderId', async (req) => {
    const { orderId } = parseWith(z.object({ orderId: Id }), req.params, 'params');
    const rows = await db.select().from(s.reservations).where(eq(s.reservations.orderId, orderId)).orderBy(asc(s.reservations.productId));
    return { reservations: rows.map((r) => ({ productId: r.productId, qty: r.qty, status: r.status })) };
  });
}
