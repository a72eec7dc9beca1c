/**
 * Test helper: every API route handler of the console (app/api/**\/route.ts)
 * with its URL pattern, methods and dynamic segments, plus signed-in
 * sessions to call them with. Used by the hardening and fuzz tests.
 */
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { TDb } from '../../db/client.js';

export const API_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../api');
export const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
export const BASE = 'http://127.0.0.1:3000';

export type THandler = (req: Request, ctx: { params: Promise<Record<string, string>> }) => Promise<Response>;

export interface TApiRoute {
  /** e.g. `/api/runs/[id]/logs` */
  pattern: string;
  /** Dynamic segment names in order, e.g. `['id']`. */
  segments: string[];
  method: (typeof METHODS)[number];
  handler: THandler;
}

function routeFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    if (statSync(p).isDirectory()) return routeFiles(p);
    return f === 'route.ts' ? [p] : [];
  });
}

export async function loadApiRoutes(): Promise<TApiRoute[]> {
  const out: TApiRoute[] = [];
  for (const file of routeFiles(API_DIR)) {
    const rel = path.relative(API_DIR, path.dirname(file)).split(path.sep);
    const segments = rel.flatMap((s) => /^\[(.+)\]$/.exec(s)?.[1] ?? []);
    const mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
    for (const method of METHODS)
      if (typeof mod[method] === 'function') out.push({ pattern: `/api/${rel.join('/')}`, segments, method, handler: mod[method] as THandler });
  }
  return out.sort((a, b) => `${a.pattern} ${a.method}`.localeCompare(`${b.pattern} ${b.method}`));
}

/** The URL of `r` with its segments filled (each value URL-encoded, as a browser would send it). */
export function urlOf(r: TApiRoute, params: Record<string, string>, query = ''): string {
  const p = r.pattern.replace(/\[([^\]]+)\]/g, (_, k: string) => encodeURIComponent(params[k] ?? 'x'));
  return `${BASE}${p}${query ? `?${query}` : ''}`;
}

export interface TSession {
  headers: Record<string, string>;
}

/** A signed-in operator and viewer (cookie + CSRF + same origin), ready to send mutations. */
export async function sessions(db: TDb): Promise<{ operator: TSession; viewer: TSession }> {
  const { createSession } = await import('../_lib/auth/session.js');
  const mk = async (name: string, role: 'operator' | 'viewer') => {
    const s = await createSession(db, { name, role });
    return { headers: { cookie: `fl_session=${s.secret}; fl_csrf=${s.csrfToken}`, 'x-csrf-token': s.csrfToken, origin: BASE, host: '127.0.0.1:3000' } };
  };
  return { operator: await mk('otto', 'operator'), viewer: await mk('vera', 'viewer') };
}

/** A field issue of an API error answer. */
export interface TIssue {
  path: string;
  message: string;
  line?: number;
}

/** An API answer as the tests read it: status and JSON body (an error names its code, message and issues). */
export interface TAnswer {
  status: number;
  json: Record<string, unknown> & { error?: { code: string; message: string; issues?: TIssue[] } };
}
