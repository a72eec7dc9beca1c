/**
 * The one shape of every API route handler (STYLE.md "thin edges"):
 *
 *   request ─▶ principal (Bearer token | session cookie) ─▶ role check
 *           ─▶ CSRF (cookie sessions, mutating methods)
 *           ─▶ body streamed with a byte counter (413 past the limit, the rest never read)
 *           ─▶ zod parse (params, query, body) ─▶ no NUL anywhere (Postgres refuses it in text)
 *           ─▶ one domain call ─▶ JSON | Response
 *
 * Every failure is an AppError rendered as `{error:{code,message,issues?}}`
 * with the catalogue's status; anything else becomes INTERNAL without its
 * stack (logged on the server).
 */
import type { z } from 'zod';
import { AppError, toAppError, type TFieldIssue } from '../../core/errors.js';
import { parseWith } from '../../core/validate.js';
import { db } from './deps.js';
import { CSRF_HEADER, principalOf, safeEqual, type TPrincipal } from './auth/session.js';
import { roleAllows, type TRole } from './auth/users.js';

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** Bodies beyond this are refused while reading (experiment YAML is a few KB). */
export const MAX_BODY_BYTES = 512 * 1024;

export interface TRouteCtx<B, Q, P> {
  req: Request;
  principal: TPrincipal;
  body: B;
  query: Q;
  params: P;
}

export interface TRouteOptions<BS extends z.ZodType | undefined, QS extends z.ZodType | undefined, PS extends z.ZodType | undefined> {
  /** Least role allowed. Every route requires sign-in except the few marked `public`. */
  role: TRole | 'public';
  /** zod schema of the JSON body. @defaultValue no body is read */
  body?: BS;
  /** zod schema of the query string (object of strings). @defaultValue no query parsing */
  query?: QS;
  /** zod schema of the dynamic path segments. @defaultValue params passed through as strings */
  params?: PS;
  /** Largest body read, in bytes; reading stops and the answer is 413 past it. @defaultValue {@link MAX_BODY_BYTES} */
  maxBodyBytes?: number;
}

type Infer<S> = S extends z.ZodType ? z.infer<S> : undefined;

export function errorResponse(e: unknown): Response {
  const err = toAppError(e);
  if (err.code === 'INTERNAL') {
    console.error('[console] internal error:', e instanceof Error ? (e.stack ?? e.message) : e);
    return Response.json({ error: { code: 'INTERNAL', message: 'internal error (see the console server log)' } }, { status: 500 });
  }
  const retryAfter = err.details?.retryAfterSeconds;
  return Response.json(err.toJSON(), { status: err.httpStatus, headers: typeof retryAfter === 'number' ? { 'retry-after': String(retryAfter) } : undefined });
}

/** Enforce auth and CSRF for a request; exported for the SSE and download routes. */
export async function authorize(req: Request, role: TRole): Promise<TPrincipal> {
  const principal = await principalOf(db(), req.headers);
  if (!principal) throw new AppError('UNAUTHORIZED', 'sign in or send an API token (Authorization: Bearer)');
  if (MUTATING.has(req.method) && principal.via === 'session') {
    const sent = req.headers.get(CSRF_HEADER) ?? '';
    if (!principal.csrfToken || !safeEqual(sent, principal.csrfToken)) throw new AppError('FORBIDDEN', `missing or wrong ${CSRF_HEADER} header`);
    checkOrigin(req);
  }
  if (!roleAllows(principal.role, role)) throw new AppError('FORBIDDEN', `role ${principal.role} may not do this (needs ${role})`);
  return principal;
}

/** A browser always sends Origin on a cross-site POST; refuse one that is not ours. */
export function checkOrigin(req: Request): void {
  const origin = req.headers.get('origin');
  if (!origin) return;
  const host = req.headers.get('x-forwarded-host') ?? req.headers.get('host') ?? new URL(req.url).host;
  let originHost: string;
  try {
    originHost = new URL(origin).host;
  } catch {
    throw new AppError('FORBIDDEN', 'bad Origin header');
  }
  if (originHost !== host) throw new AppError('FORBIDDEN', `cross-origin request from ${origin} refused`);
}

function tooLarge(limit: number): AppError {
  return new AppError('TOO_LARGE', `request body over ${limit} bytes`, { issues: [{ path: '', message: `at most ${limit} bytes` }] });
}

/**
 * Read the body as UTF-8 text, counting bytes as they arrive: past `limit`
 * the stream is cancelled (the rest is never buffered) and the answer is
 * 413. A declared Content-Length over the limit is refused before reading.
 */
export async function readBodyText(req: Request, limit = MAX_BODY_BYTES): Promise<string> {
  const declared = Number(req.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > limit) {
    await req.body?.cancel().catch(() => undefined);
    throw tooLarge(limit);
  }
  if (!req.body) return '';
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    bytes += value.byteLength;
    if (bytes > limit) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge(limit);
    }
    chunks.push(value);
  }
  return new TextDecoder('utf-8', { fatal: false }).decode(Buffer.concat(chunks));
}

async function readJson(req: Request, limit: number): Promise<unknown> {
  const text = await readBodyText(req, limit);
  if (!text.trim()) return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new AppError('VALIDATION', 'request body is not valid JSON', { issues: [{ path: '', message: 'expected a JSON object' }] });
  }
}

/**
 * PostgreSQL refuses U+0000 in text and jsonb; a NUL anywhere in the input
 * is a field error here rather than a failed query later. Walks the parsed
 * value with an explicit stack: JSON.parse accepts nesting far deeper than
 * a recursive walk could follow.
 */
export function rejectNul(value: unknown, what: string): void {
  const issues: TFieldIssue[] = [];
  const show = (path: string[]) => path.join('.').replaceAll('\u0000', '\\0');
  const stack: { v: unknown; path: string[] }[] = [{ v: value, path: [] }];
  while (stack.length && issues.length < 20) {
    const { v, path } = stack.pop()!;
    if (typeof v === 'string') {
      if (v.includes('\u0000')) issues.push({ path: show(path), message: 'must not contain the NUL character (U+0000)' });
    } else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        const p = path.length < 32 ? [...path, k] : path;
        if (k.includes('\u0000')) issues.push({ path: show(p), message: 'field name must not contain the NUL character (U+0000)' });
        stack.push({ v: x, path: p });
      }
    }
  }
  if (issues.length) throw new AppError('VALIDATION', `invalid ${what}`, { issues });
}

export function route<BS extends z.ZodType | undefined = undefined, QS extends z.ZodType | undefined = undefined, PS extends z.ZodType | undefined = undefined>(
  opts: TRouteOptions<BS, QS, PS>,
  fn: (ctx: TRouteCtx<Infer<BS>, Infer<QS>, PS extends z.ZodType ? z.infer<PS> : Record<string, string>>) => Promise<unknown>,
) {
  return async (req: Request, ctx?: { params?: Promise<Record<string, string>> }): Promise<Response> => {
    try {
      const principal = opts.role === 'public' ? ({ name: 'anonymous', role: 'viewer', via: 'session' } as TPrincipal) : await authorize(req, opts.role);
      if (opts.role === 'public' && MUTATING.has(req.method)) checkOrigin(req);
      const rawParams = (await ctx?.params) ?? {};
      rejectNul(rawParams, 'path');
      const params = opts.params ? parseWith(opts.params, rawParams, 'path') : rawParams;
      const rawQuery = Object.fromEntries(new URL(req.url).searchParams);
      rejectNul(rawQuery, 'query');
      const query = opts.query ? parseWith(opts.query, rawQuery, 'query') : undefined;
      let body: unknown;
      if (opts.body) {
        const raw = await readJson(req, opts.maxBodyBytes ?? MAX_BODY_BYTES);
        rejectNul(raw, 'request body');
        body = parseWith(opts.body, raw, 'request body');
      }
      const out = await fn({ req, principal, body: body as Infer<BS>, query: query as Infer<QS>, params: params as never });
      if (out instanceof Response) return out;
      return Response.json(out ?? { ok: true });
    } catch (e) {
      return errorResponse(e);
    }
  };
}
