/**
 * Fuzz of every console API route (issue 13): generated path segments,
 * query strings and bodies (NUL and other characters PostgreSQL refuses,
 * huge and odd numbers, YAML alias bombs, broken JSON, nested junk, forged
 * cursors) thrown at each handler in app/api as an operator, a viewer and
 * signed out. Seeded, so a failure replays; bounded by a request budget and
 * a time cap. Every answer must be < 500 with no stack trace in its body.
 *
 * The shop supervisor is a stub answering empty lists and the fault proxy
 * is a real in-process one, so "backend unavailable" (503) cannot hide a
 * bad-input 500, and nothing reaches a stack someone else runs.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../db/testing.js';
import { startFaultProxy, type TFaultProxy } from '../../chaos/index.js';
import { loadApiRoutes, sessions, urlOf, type TApiRoute, type TSession } from './route-walk.js';

const SEED = 0x13f00d;
/** FAULTLINE_FUZZ_REQUESTS overrides the budget (a longer hunt, or a quick check). */
const MAX_REQUESTS = Number(process.env.FAULTLINE_FUZZ_REQUESTS) || 3000;
const TIME_CAP_MS = 150_000;

/** mulberry32: tiny seeded PRNG, enough to replay a failing case. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];
  return { next, int, pick, chance: (p: number) => next() < p };
}
type TRng = ReturnType<typeof rng>;

const bomb = (levels: number) => {
  const rows = ['a0: &a0 [x,x,x,x,x,x,x,x,x]'];
  for (let i = 1; i <= levels; i++)
    rows.push(
      `a${i}: &a${i} [${Array(9)
        .fill(`*a${i - 1}`)
        .join(',')}]`,
    );
  return rows.join('\n');
};

const EXPERIMENT = `name: fuzz-exp
description: fuzzed
target: shop
load:
  scenario: checkout-mix
  rate: 5
  duration: 10s
steady_state:
  slos:
    - name: avail
      route: POST /checkout
      sli: availability
      objective: 99
faults:
  - name: slow
    at: 2s
    duration: 3s
    fault:
      type: latency
      target: orders->payments
      params:
        latencyMs: 100
`;

const STRINGS: readonly string[] = [
  '',
  ' ',
  'a',
  '0',
  '-1',
  '1e309',
  'NaN',
  'Infinity',
  '-0',
  '9'.repeat(40),
  '-9223372036854775809',
  '18446744073709551616',
  '\u0000',
  'a\u0000b',
  '\u0000\u0000',
  '%00',
  '%',
  '%E0%A4%A',
  '\ud800',
  '\udfff',
  'a\ud83d',
  '😀',
  '\u202e',
  '\ufeff',
  '\r\n',
  '\t',
  '\\',
  '"',
  "'",
  '`',
  '../../../etc/passwd',
  '..',
  '.',
  '/',
  '//',
  '?x=1',
  '#frag',
  '<script>alert(1)</script>',
  "' OR 1=1 --",
  '${jndi:ldap://x}',
  '{{7*7}}',
  'null',
  'true',
  'false',
  '{}',
  '[]',
  '[[[[[[[[]]]]]]]]',
  '2026-01-01T00:00:00Z',
  '+275761-01-01T00:00:00Z',
  '-271822-01-01T00:00:00Z',
  'sch_0123456789ab',
  'sch_zzzzzzzzzzzz',
  '0123456789abcdef',
  'payments-latency',
  'checkout-mix',
  'ci',
  'json',
  'html',
  'junit',
  'md',
  'operator',
  'viewer',
  '* * * * * *',
  '*/1 * * * * *',
  '0 3 * * *',
  '61 * * * *',
  'Mars/Olympus',
  'UTC',
  'experiment',
  'suite',
  '123456789012345678',
  '99999999999999999999999999',
  'x'.repeat(300),
  'y'.repeat(70_000),
  bomb(6),
  'name: *nope\n',
  'a: &a 1\nb: *a\n',
  EXPERIMENT,
  EXPERIMENT.replace('fuzz-exp', 'fuzz\u0000exp'),
  EXPERIMENT.replace('10s', '99999999999d'),
  EXPERIMENT.replace('100', '1e400'),
  'name: [unclosed',
  ': : :',
  '---\n---\n',
  '!!js/function "x"',
  '!!binary AAAA',
  `k: ${'['.repeat(5000)}`,
];

const FIELDS: readonly string[] = [
  'yaml',
  'name',
  'description',
  'experimentId',
  'scenario',
  'kind',
  'ref',
  'cron',
  'timezone',
  'enabled',
  'username',
  'password',
  'role',
  'reason',
  'by',
  'id',
  'after',
  '__proto__',
  'constructor',
  '',
];
const QUERY_KEYS: readonly string[] = ['limit', 'experiment', 'after', 'service', 'level', 'text', 'cursor', 'format', 'from', 'to', 'x'];

function cursorish(r: TRng): string {
  const v = r.pick<unknown[]>([
    [1e20, '1'],
    [-1, '1'],
    [Date.now(), '9'.repeat(30)],
    [Date.now(), '1'],
    ['x', 1],
    [1.5, '2'],
    [8.64e15 + 1, '1'],
    [Date.now(), 'a\u0000'],
    [],
  ]);
  return Buffer.from(JSON.stringify(v)).toString(r.chance(0.8) ? 'base64url' : 'base64');
}

function str(r: TRng): string {
  const s = r.pick(STRINGS);
  return r.chance(0.15) ? s + r.pick(STRINGS) : s;
}

function value(r: TRng, depth = 0): unknown {
  switch (r.int(depth > 2 ? 4 : 7)) {
    case 0:
      return str(r);
    case 1:
      return r.pick([0, -1, 1, 1.5, -0, 2 ** 53 + 1, 2 ** 63, 1e308, -1e308, Number.MAX_SAFE_INTEGER, 86_400_000_000]);
    case 2:
      return r.chance(0.5);
    case 3:
      return null;
    case 4:
      return Array.from({ length: r.int(4) }, () => value(r, depth + 1));
    default:
      return Object.fromEntries(Array.from({ length: r.int(5) }, () => [r.chance(0.8) ? r.pick(FIELDS) : str(r).slice(0, 50), value(r, depth + 1)]));
  }
}

function body(r: TRng): string {
  switch (r.int(6)) {
    case 0:
      return r.pick(['', '{', '[]', '"x"', 'null', '1', '{"yaml":', '\u0000', '{"a":1}garbage', `${'['.repeat(100_000)}${']'.repeat(100_000)}`]);
    case 1:
      return JSON.stringify({ yaml: str(r) });
    case 2:
      return JSON.stringify({
        name: str(r),
        kind: r.pick(['experiment', 'suite', str(r)]),
        ref: str(r),
        cron: r.pick(['0 3 * * *', '* * * * * *', str(r)]),
        timezone: r.pick(['UTC', str(r)]),
        enabled: value(r),
      });
    case 3:
      return JSON.stringify({ username: str(r), password: str(r) });
    case 4:
      return JSON.stringify({ experimentId: str(r), scenario: str(r), name: str(r), role: r.pick(['viewer', 'operator', 'root', str(r)]) });
    default:
      return JSON.stringify(value(r));
  }
}

function query(r: TRng): string {
  const parts: string[] = [];
  for (let i = r.int(4); i > 0; i--) {
    const k = r.pick(QUERY_KEYS);
    const v = k === 'cursor' && r.chance(0.6) ? cursorish(r) : str(r).slice(0, 600);
    // sometimes raw (malformed percent-escapes reach the parser as they are)
    parts.push(`${k}=${r.chance(0.1) ? v.replace(/[&#\s]/g, '') : encodeURIComponent(v.replace(/[\ud800-\udfff]/g, '\ufffd'))}`);
  }
  return parts.join('&');
}

const STACK = /\n\s+at\s.+:\d+:\d+|node_modules\/|webpack-internal|\.ts:\d+:\d+/;

let t: Awaited<ReturnType<typeof createTestDatabase>>;
let routes: TApiRoute[];
let who: { operator: TSession; viewer: TSession };
let supervisor: Server;
let proxy: TFaultProxy;

beforeAll(async () => {
  t = await createTestDatabase();
  supervisor = createServer((req, res) => {
    res.writeHead(req.url === '/instances' || req.url === '/edges' ? 200 : 404, { 'content-type': 'application/json' });
    res.end(req.url === '/instances' || req.url === '/edges' ? '[]' : '{"error":"not found"}');
  });
  await new Promise<void>((r) => supervisor.listen(0, '127.0.0.1', () => r()));
  proxy = await startFaultProxy({ host: '127.0.0.1', port: 0 });
  process.env.DATABASE_URL = t.url;
  process.env.FAULTLINE_PREFIX = `fltest-fuzz-${Math.random().toString(36).slice(2, 10)}`;
  process.env.SUPERVISOR_URL = `http://127.0.0.1:${(supervisor.address() as AddressInfo).port}`;
  process.env.TOXIPROXY_URL = proxy.url;
  delete process.env.FAULTLINE_USERS;
  routes = await loadApiRoutes();
  who = await sessions(t.db);
});

afterAll(async () => {
  const { platform, closeRunHub } = await import('../_lib/runs.js');
  closeRunHub();
  const p = platform();
  const keys = await p.redis.keys(`${p.prefix}:*`);
  if (keys.length) await p.redis.del(...keys);
  await p.close();
  await proxy?.close();
  await new Promise<void>((r) => (supervisor ? supervisor.close(() => r()) : r()));
  await t?.drop();
});

describe('fuzz: every API route answers bad input below 500', () => {
  it(
    `seed ${SEED}: up to ${MAX_REQUESTS} generated requests, no 5xx, no stack trace`,
    async () => {
      const r = rng(SEED);
      const failures: string[] = [];
      const statuses = new Map<number, number>();
      const perRoute = new Map<string, number>();
      const started = Date.now();
      let n = 0;
      while (n < MAX_REQUESTS && Date.now() - started < TIME_CAP_MS && failures.length < 25) {
        const route = routes[n % routes.length];
        n++;
        const params = Object.fromEntries(route.segments.map((s) => [s, str(r).slice(0, r.chance(0.9) ? 200 : 100_000)]));
        const q = r.chance(0.7) ? query(r) : '';
        let as = r.chance(0.8) ? who.operator : r.chance(0.5) ? who.viewer : null;
        // Signing out ends the session it is sent with: give it one of its own.
        if (as && route.pattern === '/api/auth/logout') as = (await sessions(t.db)).operator;
        const sendBody = route.method !== 'GET' && r.chance(0.9);
        const b = sendBody ? body(r) : undefined;
        let url: string;
        try {
          url = urlOf(route, params, q);
        } catch {
          continue; // a segment no browser could send (lone surrogate in a URL)
        }
        const req = new Request(url, {
          method: route.method,
          headers: {
            host: '127.0.0.1:3000',
            'content-type': r.chance(0.9) ? 'application/json' : r.pick(['text/plain', 'application/x-www-form-urlencoded', '']),
            ...(as?.headers ?? {}),
          },
          ...(b !== undefined ? { body: b } : {}),
        });
        const label = `${route.method} ${url.slice(0, 200)} body=${JSON.stringify((b ?? '').slice(0, 160))}`;
        let res: Response;
        try {
          res = await route.handler(req, { params: Promise.resolve(params) });
        } catch (e) {
          failures.push(`${label} → threw ${(e as Error).message}`);
          continue;
        }
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        perRoute.set(`${route.method} ${route.pattern}`, (perRoute.get(`${route.method} ${route.pattern}`) ?? 0) + 1);
        let text = '';
        if ((res.headers.get('content-type') ?? '').includes('event-stream')) await res.body?.cancel();
        else text = (await res.text()).slice(0, 20_000);
        if (res.status >= 500) failures.push(`${label} → ${res.status} ${text.slice(0, 300)}`);
        else if (STACK.test(text) && !/^(text\/html|application\/xml|text\/markdown)/.test(res.headers.get('content-type') ?? ''))
          failures.push(`${label} → stack trace in body: ${text.slice(0, 300)}`);
      }
      const summary = `${n} requests in ${Date.now() - started} ms; statuses ${JSON.stringify(Object.fromEntries(statuses))}`;
      console.log(`[fuzz] ${summary}`);
      expect(failures, summary).toEqual([]);
      // not vacuous: every route was hit, and the generator reached the handlers past auth and parsing
      expect(perRoute.size).toBe(routes.length);
      expect(n).toBeGreaterThan(routes.length * 20);
      expect(statuses.get(200) ?? 0).toBeGreaterThan(50);
      expect(statuses.get(400) ?? 0).toBeGreaterThan(200);
    },
    TIME_CAP_MS + 60_000,
  );
});
