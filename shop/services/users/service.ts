/**
 * users: registration, login (scrypt hashes, random bearer tokens) and token
 * introspection for the gateway. Owns the `users` schema.
 */
import { randomBytes } from 'node:crypto';
import { and, eq, gt } from 'drizzle-orm';
import { z } from 'zod';
import { hashPassword, verifyPassword, shopSchema as s } from '../../db/index.js';
import { ShopError, parseWith } from '../../lib/errors.js';
import type { TServiceContext } from '../../lib/service-context.js';

export const RegisterSchema = z.object({
  email: z.string().trim().toLowerCase().email().max(254),
  password: z.string().min(8).max(200),
  name: z.string().trim().min(1).max(200).optional(),
});
export const LoginSchema = z.object({ email: z.string().trim().toLowerCase().email().max(254), password: z.string().min(1).max(200) });

const TOKEN_TTL_MS = 24 * 3600_000;

export async function setup(ctx: TServiceContext) {
  const { app } = ctx;
  const db = ctx.db();

  app.post('/users', async (req, reply) => {
    const body = parseWith(RegisterSchema, req.body);
    const id = ctx.nextId();
    const rows = await db
      .insert(s.users)
      .values({ id, email: body.email, passwordHash: await hashPassword(body.password), name: body.name ?? null })
      .onConflictDoNothing({ target: s.users.email })
      .returning({ id: s.users.id, email: s.users.email });
    if (!rows[0]) throw new ShopError(409, 'email_taken', `a user with email ${body.email} already exists`);
    return reply.status(201).send(rows[0]);
  });

  app.post('/login', async (req) => {
    const body = parseWith(LoginSchema, req.body);
    const [user] = await db.select().from(s.users).where(eq(s.users.email, body.email)).limit(1);
    // Same answer for unknown email and wrong password: no account enumeration.
    if (!user || !(await verifyPassword(body.password, user.passwordHash))) throw new ShopError(401, 'invalid_credentials', 'email or password is wrong');
    const token = randomBytes(32).toString('base64url');
    const expiresAt = new Date(Date.now() + TOKEN_TTL_MS);
    await db.insert(s.tokens).values({ token, userId: user.id, expiresAt });
    return { token, userId: user.id, expiresAt: expiresAt.toISOString() };
  });

  app.get('/tokens/:token', async (req) => {
    const { token } = parseWith(z.object({ token: z.string().min(10).max(200) }), req.params, 'params');
    const [row] = await db
      .select({ userId: s.tokens.userId, expiresAt: s.tokens.expiresAt })
      .from(s.tokens)
      .where(and(eq(s.tokens.token, token), gt(s.tokens.expiresAt, new Date())))
      .limit(1);
    if (!row) throw new ShopError(404, 'invalid_token', 'token unknown or expired');
    return { userId: row.userId, expiresAt: row.expiresAt.toISOString() };
  });

  app.get('/users/:id', async (req) => {
    const { id } = parseWith(z.object({ id: z.string().regex(/^\d{1,20}$/) }), req.params, 'params');
    const [u] = await db
      .select({ id: s.users.id, email: s.users.email, name: s.users.name, createdAt: s.users.createdAt })
      .from(s.users)
      .where(eq(s.users.id, id));
    if (!u) throw new ShopError(404, 'not_found', `user ${id} not found`);
    return u;
  });
}
