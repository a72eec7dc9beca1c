/**
 * The one shape of every API route handler (STYLE.md "thin edges"):
 *
 *   request ─▶ principal (Bearer token | session cookie) ─▶ role check
 *           ─▶ CSRF (cookie sessions, mutating methods) ─▶ zod parse (params, query, body)
 *           ─▶ one domain call ─▶ JSON | Response
 *
 * Every failure is an AppError rendered as `{error:{code,message,issues?}}`
 * with the catalogue's status; anything else becomes INTERNAL without its
 * stack (logged on the server).
 */
import type { z } from 'zod';
import { AppError, toAppError } from '../../core/errors.js';
import { parseWith } from '../../core/validate.js';
import { db } from './deps.js';
import { CSRF_HEADER, principalOf, safeEqual, type TPrincipal } from './auth/session.js';
import { roleAllows, type TRole } from './auth/users.js';

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** Bodies beyond this are refused before parsing (experiment YAML is a few KB). */
const MAX_BODY_BYTES = 512 * 1024;

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
}

type Infer<S> = S extends z.ZodType ? z.infer<S> : undefined;

export function errorResponse(e: unknown): Response {
  const err = toAppError(e);
  if (err.code === 'INTERNAL') {
    console.error('[console] internal error:', e instanceof Error ? (e.stack ?? e.message) : e);
    return Response.json({ error: { code: 'INTERNAL', message: 'internal error (see the console server log)' } }, { status: 500 });
  }
  return Response.json(err.toJSON(), { status: err.httpStatus });
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

async function readJson(req: Request): Promise<unknown> {
  const text = await req.text();
  if (text.length > MAX_BODY_BYTES) throw new AppError('VALIDATION', `request body over ${MAX_BODY_BYTES} bytes`);
  if (!text.trim()) return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new AppError('VALIDATION', 'request body is not valid JSON', { issues: [{ path: '', message: 'expected a JSON object' }] });
  }
}

export function route<
  BS extends z.ZodType | undefined = undefined,
  QS extends z.ZodType | undefined = undefined,
  PS extends z.ZodType | undefined = undefined,
>(
  opts: TRouteOptions<BS, QS, PS>,
  fn: (ctx: TRouteCtx<Infer<BS>, Infer<QS>, PS extends z.ZodType ? z.infer<PS> : Record<string, string>>) => Promise<unknown>,
) {
  return async (req: Request, ctx?: { params?: Promise<Record<string, string>> }): Promise<Response> => {
    try {
      const principal =
        opts.role === 'public' ? ({ name: 'anonymous', role: 'viewer', via: 'session' } as TPrincipal) : await authorize(req, opts.role);
      if (opts.role === 'public' && MUTATING.has(req.method)) checkOrigin(req);
      const rawParams = (await ctx?.params) ?? {};
      const params = opts.params ? parseWith(opts.params, rawParams, 'path') : rawParams;
      const query = opts.query ? parseWith(opts.query, Object.fromEntries(new URL(req.url).searchParams), 'query') : undefined;
      const body = opts.body ? parseWith(opts.body, await readJson(req), 'request body') : undefined;
      const out = await fn({ req, principal, body: body as Infer<BS>, query: query as Infer<QS>, params: params as never });
      if (out instanceof Response) return out;
      return Response.json(out ?? { ok: true });
    } catch (e) {
      return errorResponse(e);
    }
  };
}
