/**
 * Walks every API route of the console (app/api/**\/route.ts) and asserts
 * refusal: unauthenticated → 401 everywhere but sign-in; a viewer → 403 on
 * every mutation (with a valid CSRF token, so the role is what refuses);
 * an operator without the CSRF header → 403; a viewer API token → 403 on
 * mutations. A new route is covered the moment its file exists.
 */
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../db/testing.js';

const apiDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../api');
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** The only route reachable signed out. */
const PUBLIC = new Set(['POST /api/auth/login']);
/** POSTs a viewer may make because they change nothing shared (own sign-out, dry-run validation). */
const VIEWER_POSTS = new Set(['POST /api/auth/logout', 'POST /api/experiments/validate', 'POST /api/targets/validate']);
/** GETs reserved to operators. */
const OPERATOR_GETS = new Set(['GET /api/tokens']);

/** Plausible values for dynamic segments, so the refusal is about access and not about a bad id. */
const PARAM_VALUES: Record<string, string> = { id: 'sch_0123456789ab', format: 'json' };

function routeFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    if (statSync(p).isDirectory()) return routeFiles(p);
    return f === 'route.ts' ? [p] : [];
  });
}

interface TRoute {
  url: string;
  method: (typeof METHODS)[number];
  handler: (req: Request, ctx: { params: Promise<Record<string, string>> }) => Promise<Response>;
  params: Record<string, string>;
}

let t: Awaited<ReturnType<typeof createTestDatabase>>;
let routes: TRoute[] = [];
let viewer: { cookie: string; csrf: string };
let operator: { cookie: string; csrf: string };
let viewerToken: string;
const BASE = 'http://127.0.0.1:3000';

function call(r: TRoute, headers: Record<string, string> = {}): Promise<Response> {
  const init: RequestInit = { method: r.method, headers: { host: '127.0.0.1:3000', ...headers } };
  if (MUTATING.has(r.method)) {
    init.body = '{}';
    (init.headers as Record<string, string>)['content-type'] = 'application/json';
  }
  return r.handler(new Request(`${BASE}${r.url}`, init), { params: Promise.resolve(r.params) });
}

beforeAll(async () => {
  t = await createTestDatabase();
  process.env.DATABASE_URL = t.url;
  process.env.FAULTLINE_PREFIX = `fltest-auth-${Math.random().toString(36).slice(2, 10)}`;
  delete process.env.FAULTLINE_USERS;
  const { createSession, createApiToken } = await import('../_lib/auth/session.js');
  const v = await createSession(t.db, { name: 'vera', role: 'viewer' });
  const o = await createSession(t.db, { name: 'otto', role: 'operator' });
  viewer = { cookie: `fl_session=${v.secret}; fl_csrf=${v.csrfToken}`, csrf: v.csrfToken };
  operator = { cookie: `fl_session=${o.secret}; fl_csrf=${o.csrfToken}`, csrf: o.csrfToken };
  viewerToken = (await createApiToken(t.db, { name: 'ci-read', role: 'viewer', createdBy: 'otto' })).token;
  for (const file of routeFiles(apiDir)) {
    const rel = path.relative(apiDir, path.dirname(file)).split(path.sep);
    const params: Record<string, string> = {};
    const url =
      '/api/' +
      rel
        .map((seg) => {
          const m = /^\[(.+)\]$/.exec(seg);
          if (!m) return seg;
          params[m[1]] = PARAM_VALUES[m[1]] ?? 'x';
          return params[m[1]];
        })
        .join('/');
    const mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
    for (const method of METHODS) if (typeof mod[method] === 'function') routes.push({ url, method, handler: mod[method] as TRoute['handler'], params });
  }
  routes = routes.sort((a, b) => `${a.url}${a.method}`.localeCompare(`${b.url}${b.method}`));
});

afterAll(async () => {
  const { platform } = await import('../_lib/runs.js');
  const p = platform();
  const keys = await p.redis.keys(`${p.prefix}:*`);
  if (keys.length) await p.redis.del(...keys);
  await p.close();
  await t?.drop();
});

const name = (r: TRoute) => `${r.method} ${r.url.replace(/sch_0123456789ab|\/x(?=\/|$)/g, (m) => (m.startsWith('/') ? '/[id]' : '[id]'))}`;

describe('every API route refuses', () => {
  it('finds the routes (the walk is not empty)', () => {
    expect(routes.length).toBeGreaterThan(20);
    expect(routes.filter((r) => MUTATING.has(r.method)).length).toBeGreaterThan(10);
  });

  it('signed out: 401 with an UNAUTHORIZED error body, except sign-in', async () => {
    const wrong: string[] = [];
    for (const r of routes) {
      if (PUBLIC.has(`${r.method} ${r.url}`)) continue;
      const res = await call(r);
      const body = (await res.json().catch(() => null)) as { error?: { code?: string } } | null;
      if (res.status !== 401 || body?.error?.code !== 'UNAUTHORIZED') wrong.push(`${name(r)} → ${res.status}`);
    }
    expect(wrong).toEqual([]);
  });

  it('a viewer (valid CSRF token) is refused every mutation and the operator-only reads', async () => {
    const wrong: string[] = [];
    let checked = 0;
    for (const r of routes) {
      const key = `${r.method} ${r.url}`;
      const mutation = MUTATING.has(r.method) && !PUBLIC.has(key) && !VIEWER_POSTS.has(key);
      if (!mutation && !OPERATOR_GETS.has(key)) continue;
      checked++;
      const res = await call(r, { cookie: viewer.cookie, 'x-csrf-token': viewer.csrf, origin: BASE });
      const body = (await res.json().catch(() => null)) as { error?: { code?: string; message?: string } } | null;
      if (res.status !== 403 || body?.error?.code !== 'FORBIDDEN' || !/role viewer/.test(body.error.message ?? ''))
        wrong.push(`${name(r)} → ${res.status} ${body?.error?.message}`);
    }
    expect(checked).toBeGreaterThan(10);
    expect(wrong).toEqual([]);
  });

  it('a viewer API token is refused every mutation; an unknown token is 401', async () => {
    const wrong: string[] = [];
    for (const r of routes) {
      const key = `${r.method} ${r.url}`;
      if (!MUTATING.has(r.method) || PUBLIC.has(key) || VIEWER_POSTS.has(key)) continue;
      const res = await call(r, { authorization: `Bearer ${viewerToken}` });
      if (res.status !== 403) wrong.push(`${name(r)} → ${res.status}`);
      const bad = await call(r, { authorization: 'Bearer flt_not-a-token' });
      if (bad.status !== 401) wrong.push(`${name(r)} (bad token) → ${bad.status}`);
    }
    expect(wrong).toEqual([]);
  });

  it('an operator session without the CSRF header, or from another origin, is refused every mutation', async () => {
    const wrong: string[] = [];
    for (const r of routes) {
      const key = `${r.method} ${r.url}`;
      if (!MUTATING.has(r.method) || PUBLIC.has(key)) continue;
      const noCsrf = await call(r, { cookie: operator.cookie });
      if (noCsrf.status !== 403) wrong.push(`${name(r)} without CSRF → ${noCsrf.status}`);
      const cross = await call(r, { cookie: operator.cookie, 'x-csrf-token': operator.csrf, origin: 'https://evil.example' });
      if (cross.status !== 403) wrong.push(`${name(r)} cross-origin → ${cross.status}`);
    }
    expect(wrong).toEqual([]);
  });
});

describe('sign-in and tokens', () => {
  const find = (method: string, url: string) => routes.find((r) => r.method === method && r.url === url)!;

  it('sign-in: wrong password 401, missing field names the field, right password sets HttpOnly SameSite cookies', async () => {
    const login = find('POST', '/api/auth/login');
    const post = (body: string) =>
      login.handler(new Request(`${BASE}/api/auth/login`, { method: 'POST', body, headers: { 'content-type': 'application/json', host: '127.0.0.1:3000' } }), {
        params: Promise.resolve({}),
      });
    const wrong = await post(JSON.stringify({ username: 'operator', password: 'nope' }));
    expect(wrong.status).toBe(401);
    const missing = await post(JSON.stringify({ username: 'operator' }));
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as { error: { issues: { path: string }[] } }).error.issues.map((i) => i.path)).toEqual(['password']);
    const garbage = await post('{not json');
    expect(garbage.status).toBe(400);
    const ok = await post(JSON.stringify({ username: 'operator', password: 'operator' }));
    expect(ok.status).toBe(200);
    const cookies = ok.headers.getSetCookie();
    const session = cookies.find((c) => c.startsWith('fl_session='))!;
    expect(session).toMatch(/HttpOnly/);
    expect(session).toMatch(/SameSite=Lax/);
    // quickstart over loopback HTTP: not Secure; anything else is
    expect(session).not.toMatch(/Secure/);
    const me = await find('GET', '/api/auth/me').handler(new Request(`${BASE}/api/auth/me`, { headers: { cookie: session.split(';')[0] } }), {
      params: Promise.resolve({}),
    });
    expect(await me.json()).toMatchObject({ name: 'operator', role: 'operator' });
  });

  it('cookies are Secure behind TLS or on a non-loopback host', async () => {
    const login = find('POST', '/api/auth/login');
    const res = await login.handler(
      new Request('https://faultline.example.com/api/auth/login', {
        method: 'POST',
        body: JSON.stringify({ username: 'viewer', password: 'viewer' }),
        headers: { 'content-type': 'application/json', host: 'faultline.example.com' },
      }),
      { params: Promise.resolve({}) },
    );
    expect(res.status).toBe(200);
    expect(res.headers.getSetCookie().every((c) => /; Secure/.test(c))).toBe(true);
  });

  it('an operator creates an API token that then works as Bearer, and revoking it ends it', async () => {
    const create = find('POST', '/api/tokens');
    const res = await create.handler(
      new Request(`${BASE}/api/tokens`, {
        method: 'POST',
        body: JSON.stringify({ name: 'ci', role: 'operator' }),
        headers: { cookie: operator.cookie, 'x-csrf-token': operator.csrf, 'content-type': 'application/json', host: '127.0.0.1:3000' },
      }),
      { params: Promise.resolve({}) },
    );
    expect(res.status).toBe(200);
    const { id, token } = (await res.json()) as { id: string; token: string };
    const me = () =>
      find('GET', '/api/auth/me').handler(new Request(`${BASE}/api/auth/me`, { headers: { authorization: `Bearer ${token}` } }), {
        params: Promise.resolve({}),
      });
    expect(await (await me()).json()).toMatchObject({ name: 'token:ci', role: 'operator', via: 'token' });
    const revoke = routes.find((r) => r.method === 'DELETE' && r.url.startsWith('/api/tokens/'))!;
    const del = await revoke.handler(new Request(`${BASE}/api/tokens/${id}`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } }), {
      params: Promise.resolve({ id }),
    });
    expect(del.status).toBe(200);
    expect((await me()).status).toBe(401);
  });
});

describe('sign-in throttling (Redis, per name and client address)', () => {
  const login = () => routes.find((r) => r.method === 'POST' && r.url === '/api/auth/login')!;
  const post = (username: string, password: string, address: string) =>
    login().handler(
      new Request(`${BASE}/api/auth/login`, {
        method: 'POST',
        body: JSON.stringify({ username, password }),
        headers: { 'content-type': 'application/json', host: '127.0.0.1:3000', 'x-forwarded-for': address },
      }),
      { params: Promise.resolve({}) },
    );

  it('the 6th wrong try gets 429 with Retry-After; a locked-out name still signs in from a client that did not fail', async () => {
    for (let i = 0; i < 5; i++) expect((await post('viewer', `guess${i}`, '10.0.0.66')).status).toBe(401);
    const sixth = await post('viewer', 'guess5', '10.0.0.66');
    expect(sixth.status).toBe(429);
    const retryAfter = Number(sixth.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(300);
    expect(((await sixth.json()) as { error: { code: string; message: string } }).error).toMatchObject({
      code: 'TOO_MANY_REQUESTS',
      message: expect.stringMatching(/too many failed sign-ins for viewer/),
    });
    // The attacker's client stays locked out even with the right password …
    expect((await post('viewer', 'viewer', '10.0.0.66')).status).toBe(429);
    // … while the user, from a client that has not failed, signs in.
    const ok = await post('viewer', 'viewer', '10.0.0.7');
    expect(ok.status).toBe(200);
    expect(ok.headers.getSetCookie().some((c) => c.startsWith('fl_session='))).toBe(true);
    // The lock is in Redis under the platform prefix, with the window as its expiry.
    const { platform } = await import('../_lib/runs.js');
    const p = platform();
    const keys = await p.redis.keys(`${p.prefix}:login:*`);
    expect(keys.length).toBeGreaterThanOrEqual(2);
    expect(await p.redis.pttl(keys[0])).toBeGreaterThan(0);
  });

  it('the lock holds across console processes (two throttles on separate Redis connections, one prefix)', async () => {
    const { LoginThrottle } = await import('../_lib/auth/throttle.js');
    const { platform } = await import('../_lib/runs.js');
    const p = platform();
    const a = new LoginThrottle({ redis: p.newRedis(), prefix: p.prefix });
    const b = new LoginThrottle({ redis: p.newRedis(), prefix: p.prefix });
    try {
      for (let i = 0; i < 5; i++) await (i % 2 ? a : b).attempt('operator', '10.0.0.99');
      await expect(a.attempt('operator', '10.0.0.99')).rejects.toMatchObject({ code: 'TOO_MANY_REQUESTS' });
      await expect(b.attempt('operator', '10.0.0.99')).rejects.toMatchObject({ code: 'TOO_MANY_REQUESTS' });
      await b.attempt('operator', '10.0.0.100');
    } finally {
      (a as unknown as { store: { redis: { disconnect(): void } } }).store.redis.disconnect();
      (b as unknown as { store: { redis: { disconnect(): void } } }).store.redis.disconnect();
    }
  });

  it('one client spraying many names is stopped by its address limit, and others are not', async () => {
    let refused: Response | undefined;
    for (let i = 0; i < 40 && !refused; i++) {
      const r = await post(`nobody${i}`, 'x', '10.0.0.200');
      if (r.status === 429) refused = r;
      else expect(r.status).toBe(401);
    }
    expect(refused?.status).toBe(429);
    expect(((await refused!.json()) as { error: { message: string } }).error.message).toMatch(/from this client/);
    expect((await post('operator', 'operator', '10.0.0.201')).status).toBe(200);
  });

  it('parallel wrong guesses cannot slip past the limit', async () => {
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => post('operator', `par${i}`, '10.0.0.150')));
    const statuses = answers.map((r) => r.status);
    expect(statuses.filter((s) => s === 401)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(7);
  });
});
