/**
 * Sessions (browser) and API tokens (CLI, CI), stored hashed in the platform
 * database. A request is authenticated by exactly one of: the `fl_session`
 * cookie, or `Authorization: Bearer <token>`.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { and, eq, isNull, lt } from 'drizzle-orm';
import { apiTokens, sessions } from '../../../db/schema/index.js';
import type { TDb } from '../../../db/client.js';
import { AppError } from '../../../core/errors.js';
import { ROLES, type TRole, type TUser } from './users.js';

export const SESSION_COOKIE = 'fl_session';
/** Readable by the page's script, echoed back in `x-csrf-token` (double submit). */
export const CSRF_COOKIE = 'fl_csrf';
export const CSRF_HEADER = 'x-csrf-token';
/** Sessions last a working day; signing in again is cheap. */
export const SESSION_TTL_MS = 12 * 3600_000;

export interface TPrincipal {
  name: string;
  role: TRole;
  via: 'session' | 'token';
  /** The session's CSRF token (session principals only). */
  csrfToken?: string;
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export async function createSession(db: TDb, user: Pick<TUser, 'name' | 'role'>, now = new Date()) {
  const secret = randomBytes(32).toString('base64url');
  const csrfToken = randomBytes(24).toString('base64url');
  const expiresAt = new Date(now.getTime() + SESSION_TTL_MS);
  await db.insert(sessions).values({ id: sha256(secret), username: user.name, role: user.role, csrfToken, expiresAt });
  // Opportunistic cleanup keeps the table small without a cron job.
  await db.delete(sessions).where(lt(sessions.expiresAt, now));
  return { secret, csrfToken, expiresAt };
}

export async function resolveSession(db: TDb, secret: string, now = new Date()): Promise<TPrincipal | null> {
  if (!secret || secret.length > 200) return null;
  const [row] = await db
    .select()
    .from(sessions)
    .where(eq(sessions.id, sha256(secret)))
    .limit(1);
  if (!row || row.expiresAt.getTime() <= now.getTime()) return null;
  return { name: row.username, role: row.role, via: 'session', csrfToken: row.csrfToken };
}

export async function deleteSession(db: TDb, secret: string): Promise<void> {
  if (secret) await db.delete(sessions).where(eq(sessions.id, sha256(secret)));
}

/** Tokens from `FAULTLINE_API_TOKENS` (`name:role:sha256hex`, comma list) for CI without a database row. */
export function configuredTokens(env: Record<string, string | undefined> = process.env): { name: string; role: TRole; hash: string }[] {
  const spec = env.FAULTLINE_API_TOKENS?.trim();
  if (!spec) return [];
  const out: { name: string; role: TRole; hash: string }[] = [];
  const issues: { path: string; message: string }[] = [];
  spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .forEach((e, i) => {
      const [name, role, hash] = e.split(':');
      if (!name || !(ROLES as readonly string[]).includes(role ?? '') || !/^[0-9a-f]{64}$/.test(hash ?? ''))
        issues.push({ path: `FAULTLINE_API_TOKENS.${i}`, message: 'expected name:viewer|operator:<sha256 hex of the token>' });
      else out.push({ name, role: role as TRole, hash });
    });
  if (issues.length) throw new AppError('VALIDATION', 'invalid FAULTLINE_API_TOKENS', { issues });
  return out;
}

export async function createApiToken(db: TDb, opts: { name: string; role: TRole; createdBy: string }) {
  const token = `flt_${randomBytes(30).toString('base64url')}`;
  const id = randomBytes(8).toString('hex');
  await db.insert(apiTokens).values({ id, name: opts.name, role: opts.role, createdBy: opts.createdBy, tokenHash: sha256(token) });
  return { id, token };
}

export async function listApiTokens(db: TDb) {
  return db
    .select({
      id: apiTokens.id,
      name: apiTokens.name,
      role: apiTokens.role,
      createdBy: apiTokens.createdBy,
      createdAt: apiTokens.createdAt,
      lastUsedAt: apiTokens.lastUsedAt,
      revokedAt: apiTokens.revokedAt,
    })
    .from(apiTokens)
    .orderBy(apiTokens.createdAt);
}

export async function revokeApiToken(db: TDb, id: string): Promise<void> {
  const r = await db
    .update(apiTokens)
    .set({ revokedAt: new Date() })
    .where(and(eq(apiTokens.id, id), isNull(apiTokens.revokedAt)))
    .returning({ id: apiTokens.id });
  if (!r.length) throw new AppError('NOT_FOUND', `no active API token ${id}`);
}

export async function resolveToken(db: TDb, token: string, env: Record<string, string | undefined> = process.env): Promise<TPrincipal | null> {
  if (!token || token.length > 200) return null;
  const h = sha256(token);
  for (const t of configuredTokens(env)) if (safeEqual(t.hash, h)) return { name: `token:${t.name}`, role: t.role, via: 'token' };
  const [row] = await db
    .select()
    .from(apiTokens)
    .where(and(eq(apiTokens.tokenHash, h), isNull(apiTokens.revokedAt)))
    .limit(1);
  if (!row) return null;
  await db.update(apiTokens).set({ lastUsedAt: new Date() }).where(eq(apiTokens.id, row.id));
  return { name: `token:${row.name}`, role: row.role, via: 'token' };
}

export function parseCookies(header: string | null): Record<string, string> {
  const out: Record<string, string> = {};
  if (!header) return out;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i < 0) continue;
    const k = part.slice(0, i).trim();
    try {
      out[k] = decodeURIComponent(part.slice(i + 1).trim());
    } catch {
      /* a malformed cookie is ignored like a missing one */
    }
  }
  return out;
}

/** Who is calling: Bearer token first (CLI/CI), else the session cookie. */
export async function principalOf(db: TDb, headers: Headers): Promise<TPrincipal | null> {
  const auth = headers.get('authorization');
  if (auth) {
    const m = /^Bearer\s+(\S+)$/i.exec(auth);
    return m ? resolveToken(db, m[1]) : null;
  }
  const secret = parseCookies(headers.get('cookie'))[SESSION_COOKIE];
  return secret ? resolveSession(db, secret) : null;
}

/**
 * Cookies for a new session. `Secure` unless the console is reached over
 * plain HTTP on loopback (the quickstart); behind TLS or on any other host
 * the cookie is Secure.
 */
export function sessionCookies(s: { secret: string; csrfToken: string; expiresAt: Date }, requestUrl: string, headers: Headers): string[] {
  const secure = cookieSecure(requestUrl, headers);
  const common = `Path=/; SameSite=Lax; Expires=${s.expiresAt.toUTCString()}${secure ? '; Secure' : ''}`;
  return [`${SESSION_COOKIE}=${s.secret}; HttpOnly; ${common}`, `${CSRF_COOKIE}=${s.csrfToken}; ${common}`];
}

export function clearedCookies(requestUrl: string, headers: Headers): string[] {
  const secure = cookieSecure(requestUrl, headers) ? '; Secure' : '';
  const gone = `Path=/; SameSite=Lax; Expires=Thu, 01 Jan 1970 00:00:00 GMT${secure}`;
  return [`${SESSION_COOKIE}=; HttpOnly; ${gone}`, `${CSRF_COOKIE}=; ${gone}`];
}

export function cookieSecure(requestUrl: string, headers: Headers): boolean {
  if (process.env.FAULTLINE_COOKIE_SECURE === '1') return true;
  if (process.env.FAULTLINE_COOKIE_SECURE === '0') return false;
  const proto = headers.get('x-forwarded-proto') ?? new URL(requestUrl).protocol.replace(':', '');
  if (proto === 'https') return true;
  const host = (headers.get('host') ?? new URL(requestUrl).host).replace(/:\d+$/, '');
  return !['127.0.0.1', 'localhost', '[::1]'].includes(host);
}
