/**
 * payments: charges and refunds with Stripe idempotency semantics. Owns the
 * `payments` schema.
 *
 *   Idempotency-Key seen first time -> claim it (in flight), do the work,
 *                                      store the answer with the effect (one tx)
 *   same key, same body, finished   -> replay the stored answer (402 included)
 *   same key, same body, in flight  -> 409 idempotency_key_in_flight
 *   same key, other body            -> 422 idempotency_key_reused
 *
 * The declined-card rule: any charge above paymentLimitCents is declined (402).
 */
import { createHash } from 'node:crypto';
import { and, desc, eq, isNull, lt, or, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { shopSchema as s } from '../../db/index.js';
import { ShopError, parseWith } from '../../lib/errors.js';
import type { TServiceContext } from '../../lib/service-context.js';

const Id = z.string().regex(/^\d{1,20}$/, 'expected a numeric id string');
export const ChargeSchema = z.object({ orderId: Id, amountCents: z.number().int().min(1).max(100_000_000) });
export const RefundSchema = z.object({ orderId: Id, amountCents: z.number().int().min(1).optional() });

/** A claim older than this is treated as abandoned (its owner crashed mid-request) and may be taken over. */
const STALE_CLAIM_MS = 30_000;

type TAnswer = { status: number; body: unknown };

function idempotencyKey(req: FastifyRequest): string {
  const raw = req.headers['idempotency-key'];
  const key = Array.isArray(raw) ? raw[0] : raw;
  if (!key) throw new ShopError(400, 'idempotency_key_required', 'header Idempotency-Key is required');
  if (key.length > 255) throw new ShopError(400, 'invalid_request', 'header Idempotency-Key: at most 255 characters');
  return key;
}

type TDb = ReturnType<TServiceContext['db']>;
type TTx = Parameters<Parameters<TDb['transaction']>[0]>[0];
type TWork = (tx: TTx) => Promise<TAnswer & { store?: boolean }>;

/**
 * Claim `fullKey` for this request. A key already finished gives its stored
 * answer to replay; one still claimed is 409 unless its claim is stale (its
 * owner crashed mid-request), which is taken over.
 */
async function claimKey(db: TDb, fullKey: string, hash: string, key: string): Promise<TAnswer | null> {
  const claimed = await db
    .insert(s.idempotency)
    .values({ key: fullKey, requestHash: hash, lockedAt: new Date() })
    .onConflictDoNothing()
    .returning({ key: s.idempotency.key });
  if (claimed[0]) return null;
  const [row] = await db.select().from(s.idempotency).where(eq(s.idempotency.key, fullKey));
  if (!row) throw new ShopError(409, 'idempotency_key_in_flight', `request with Idempotency-Key ${key} is in flight`);
  if (row.requestHash !== hash) throw new ShopError(422, 'idempotency_key_reused', `Idempotency-Key ${key} was used with a different request body`);
  if (row.statusCode !== null) return { status: row.statusCode, body: row.responseBody };
  const stale = new Date(Date.now() - STALE_CLAIM_MS);
  const took = await db
    .update(s.idempotency)
    .set({ lockedAt: new Date() })
    .where(and(eq(s.idempotency.key, fullKey), isNull(s.idempotency.statusCode), or(isNull(s.idempotency.lockedAt), lt(s.idempotency.lockedAt, stale))))
    .returning({ key: s.idempotency.key });
  if (!took[0]) throw new ShopError(409, 'idempotency_key_in_flight', `request with Idempotency-Key ${key} is in flight`);
  return null;
}

/** Do the claimed work; its answer is stored in its transaction, or the claim released (failure, `store: false`). */
async function runClaimed(db: TDb, fullKey: string, work: TWork): Promise<TAnswer> {
  let ans: TAnswer & { store?: boolean };
  try {
    ans = await db.transaction(async (tx) => {
      const a = await work(tx);
      if (a.store !== false) {
        await tx.update(s.idempotency).set({ statusCode: a.status, responseBody: a.body, lockedAt: null }).where(eq(s.idempotency.key, fullKey));
      }
      return a;
    });
  } catch (e) {
    // Nothing happened: free the key so the caller's retry can run.
    await db
      .delete(s.idempotency)
      .where(and(eq(s.idempotency.key, fullKey), isNull(s.idempotency.statusCode)))
      .catch(() => {});
    throw e;
  }
  if (ans.store === false) await db.delete(s.idempotency).where(and(eq(s.idempotency.key, fullKey), isNull(s.idempotency.statusCode)));
  return ans;
}

/**
 * Run `work` at most once per key. `work` gets the transaction in which it
 * must make its effect; the answer is stored in the same transaction.
 * `store=false` answers (retryable conditions) release the claim instead.
 */
async function once(ctx: TServiceContext, scope: string, key: string, requestBody: unknown, reply: FastifyReply, work: TWork) {
  const db = ctx.db();
  const fullKey = `${scope}:${key}`;
  const hash = createHash('sha256').update(JSON.stringify(requestBody)).digest('hex');
  if (ctx.bugs.has('double-charge')) {
    // BUG (double-charge): the key is never consulted, so every retry of a
    // charge is a new charge.
    const ans = await db.transaction((tx) => work(tx));
    return reply.status(ans.status).send(ans.body);
  }
  const replay = await claimKey(db, fullKey, hash, key);
  if (replay) {
    reply.header('idempotent-replayed', 'true');
    return reply.status(replay.status).send(replay.body);
  }
  const ans = await runClaimed(db, fullKey, work);
  return reply.status(ans.status).send(ans.body);
}

/** Charges and refunds of one order run one at a time (transaction-scoped advisory lock). */
async function lockOrder(tx: TTx, orderId: string) {
  await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtextextended(${orderId}, 0))`);
}

/** A charge: refused for a voided order, declined above the limit (402), else captured. */
function charge(ctx: TServiceContext, body: z.infer<typeof ChargeSchema>, key: string): TWork {
  return async (tx) => {
    await lockOrder(tx, body.orderId);
    const [voided] = await tx
      .select({ key: s.idempotency.key })
      .from(s.idempotency)
      .where(eq(s.idempotency.key, `void:${body.orderId}`));
    if (voided) {
      return { status: 409, body: { error: { code: 'order_voided', message: `order ${body.orderId} was compensated before this charge arrived` } } };
    }
    const id = ctx.nextId();
    if (body.amountCents > ctx.settings.paymentLimitCents) {
      await tx.insert(s.payments).values({ id, orderId: body.orderId, idempotencyKey: key, amountCents: body.amountCents, status: 'failed' });
      return {
        status: 402,
        body: {
          error: { code: 'card_declined', message: `charge of ${body.amountCents} cents declined: above the ${ctx.settings.paymentLimitCents} cents limit` },
          paymentId: id,
        },
      };
    }
    await tx.insert(s.payments).values({ id, orderId: body.orderId, idempotencyKey: key, amountCents: body.amountCents, status: 'captured' });
    return { status: 201, body: { id, orderId: body.orderId, amountCents: body.amountCents, status: 'captured' } };
  };
}

/** A full refund of the order's captured payment; without one the order is voided. */
function refund(ctx: TServiceContext, body: z.infer<typeof RefundSchema>, key: string): TWork {
  return async (tx) => {
    await lockOrder(tx, body.orderId);
    const [p] = await tx
      .select()
      .from(s.payments)
      .where(and(eq(s.payments.orderId, body.orderId), eq(s.payments.status, 'captured')))
      .orderBy(desc(s.payments.id))
      .limit(1)
      .for('update');
    if (!p) {
      // Void the order: a charge still on its way (its caller timed out) is refused when it lands
      // instead of becoming a capture nobody will refund. Not stored, so a retry re-checks.
      await tx
        .insert(s.idempotency)
        .values({ key: `void:${body.orderId}`, requestHash: 'void', statusCode: 410, responseBody: { voided: body.orderId } })
        .onConflictDoNothing();
      return { status: 404, store: false, body: { error: { code: 'payment_not_found', message: `no captured payment for order ${body.orderId}` } } };
    }
    if (body.amountCents !== undefined && body.amountCents !== p.amountCents) {
      return { status: 422, store: false, body: { error: { code: 'amount_mismatch', message: `only full refunds: payment is ${p.amountCents} cents` } } };
    }
    const id = ctx.nextId();
    await tx.insert(s.refunds).values({ id, paymentId: p.id, orderId: body.orderId, amountCents: p.amountCents, idempotencyKey: key });
    await tx.update(s.payments).set({ status: 'refunded' }).where(eq(s.payments.id, p.id));
    return { status: 201, body: { id, paymentId: p.id, orderId: body.orderId, amountCents: p.amountCents } };
  };
}

export async function setup(ctx: TServiceContext) {
  const { app } = ctx;
  const db = ctx.db();

  app.post('/charges', async (req, reply) => {
    const key = idempotencyKey(req);
    const body = parseWith(ChargeSchema, req.body);
    return once(ctx, 'charge', key, body, reply, charge(ctx, body, key));
  });

  app.post('/refunds', async (req, reply) => {
    const key = idempotencyKey(req);
    const body = parseWith(RefundSchema, req.body);
    return once(ctx, 'refund', key, body, reply, refund(ctx, body, key));
  });

  app.get('/payments', async (req) => {
    const { orderId } = parseWith(z.object({ orderId: Id }), req.query, 'query');
    const payments = await db.select().from(s.payments).where(eq(s.payments.orderId, orderId)).orderBy(s.payments.id);
    const refunds = await db.select().from(s.refunds).where(eq(s.refunds.orderId, orderId)).orderBy(s.refunds.id);
    return { payments, refunds };
  });
}
