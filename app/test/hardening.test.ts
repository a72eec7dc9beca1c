/**
 * Input hardening of the console API (issue 13): bodies are refused while
 * they are read (413, the rest never pulled), NUL characters and forged log
 * cursors are field errors instead of failed queries, YAML alias bombs are
 * refused on the validate route viewers may call.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../db/testing.js';
import { runs } from '../../db/schema/index.js';
import { loadApiRoutes, sessions, urlOf, type TApiRoute, type TSession } from './route-walk.js';

let t: Awaited<ReturnType<typeof createTestDatabase>>;
let routes: TApiRoute[];
let operator: TSession;
let viewer: TSession;
const RUN_ID = '123456789012345678';

const find = (method: string, pattern: string) => routes.find((r) => r.method === method && r.pattern === pattern)!;

function call(
  r: TApiRoute,
  o: { params?: Record<string, string>; query?: string; body?: BodyInit; headers?: Record<string, string>; as?: TSession | null } = {},
) {
  const as = o.as === undefined ? operator : o.as;
  const init: RequestInit & { duplex?: 'half' } = {
    method: r.method,
    headers: { host: '127.0.0.1:3000', 'content-type': 'application/json', ...(as?.headers ?? {}), ...(o.headers ?? {}) },
  };
  if (o.body !== undefined) {
    init.body = o.body;
    if (o.body instanceof ReadableStream) init.duplex = 'half';
  }
  return r.handler(new Request(urlOf(r, o.params ?? {}, o.query), init), { params: Promise.resolve(o.params ?? {}) });
}

/** A body of `total` bytes produced on demand, counting what the server actually pulled. */
function countedBody(total: number, chunk = 64 * 1024): { stream: ReadableStream<Uint8Array>; pulled: () => number } {
  let sent = 0;
  const piece = new Uint8Array(chunk).fill(0x61);
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(ctl) {
        if (sent >= total) return ctl.close();
        const n = Math.min(chunk, total - sent);
        sent += n;
        ctl.enqueue(n === chunk ? piece : piece.subarray(0, n));
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, pulled: () => sent };
}

beforeAll(async () => {
  t = await createTestDatabase();
  process.env.DATABASE_URL = t.url;
  process.env.FAULTLINE_PREFIX = `fltest-hard-${Math.random().toString(36).slice(2, 10)}`;
  // Never reach a real shop or fault proxy someone else runs on the default ports.
  process.env.TOXIPROXY_URL = 'http://127.0.0.1:9';
  process.env.SUPERVISOR_URL = 'http://127.0.0.1:9';
  delete process.env.FAULTLINE_USERS;
  routes = await loadApiRoutes();
  ({ operator, viewer } = await sessions(t.db));
  await t.db.insert(runs).values({ id: RUN_ID, experimentName: 'x', target: 'shop', definition: {} });
});

afterAll(async () => {
  const { platform } = await import('../_lib/runs.js');
  const p = platform();
  const keys = await p.redis.keys(`${p.prefix}:*`);
  if (keys.length) await p.redis.del(...keys);
  await p.close();
  await t?.drop();
});

describe('body size limits are enforced while reading', () => {
  it('a 50 MB sign-in body is refused with 413 after a few KB, the rest never read', async () => {
    const total = 50 * 1024 * 1024;
    const b = countedBody(total);
    const r = await call(find('POST', '/api/auth/login'), { body: b.stream, as: null });
    expect(r.status).toBe(413);
    expect(((await r.json()) as { error: { code: string } }).error.code).toBe('TOO_LARGE');
    // the handler stopped at the limit: it pulled at most the limit plus one chunk of the 50 MB
    expect(b.pulled()).toBeLessThanOrEqual(4096 + 64 * 1024);
    expect(b.pulled()).toBeLessThan(total / 100);
  });

  it('an experiment body over 512 KB is refused with 413 while streaming; a declared Content-Length over the limit before reading', async () => {
    const b = countedBody(8 * 1024 * 1024);
    const r = await call(find('POST', '/api/experiments'), { body: b.stream });
    expect(r.status).toBe(413);
    expect(b.pulled()).toBeLessThanOrEqual(512 * 1024 + 64 * 1024);
    const declared = countedBody(8 * 1024 * 1024);
    const r2 = await call(find('POST', '/api/experiments/validate'), {
      body: declared.stream,
      headers: { 'content-length': String(8 * 1024 * 1024) },
      as: viewer,
    });
    expect(r2.status).toBe(413);
    expect(declared.pulled()).toBe(0);
  });

  it('a body under the limit is read whole (the counter does not cut valid input)', async () => {
    const yaml = `name: big-one\ndescription: "${'d'.repeat(100_000)}"\n`;
    const r = await call(find('POST', '/api/experiments/validate'), { body: JSON.stringify({ yaml }), as: viewer });
    expect(r.status).toBe(400);
    // a schema error about the experiment's fields, so the whole YAML arrived and was parsed
    expect(JSON.stringify(await r.json())).toMatch(/load|steady_state|description/);
  });
});

describe('characters PostgreSQL refuses are field errors, not 500', () => {
  it('NUL in an experiment name or description, a run id, a schedule name, log search parameters', async () => {
    const cases: [TApiRoute, Parameters<typeof call>[1], string][] = [
      [find('POST', '/api/experiments'), { body: JSON.stringify({ yaml: 'name: a\u0000b\ndescription: x\n' }) }, 'yaml'],
      [find('POST', '/api/experiments/validate'), { body: JSON.stringify({ yaml: 'name: ab\ndescription: "x\\0y"\n' }), as: viewer }, ''],
      [find('GET', '/api/runs/[id]'), { params: { id: '12\u00003' } }, ''],
      [find('POST', '/api/runs'), { body: JSON.stringify({ experimentId: 'pay\u0000ments' }) }, 'experimentId'],
      [
        find('POST', '/api/schedules'),
        { body: JSON.stringify({ name: 'n\u0000ight', kind: 'experiment', ref: 'payments-latency', cron: '0 3 * * *' }) },
        'name',
      ],
      [find('GET', '/api/runs/[id]/logs'), { params: { id: RUN_ID }, query: 'text=a%00b' }, 'text'],
      [find('GET', '/api/runs/[id]/logs'), { params: { id: RUN_ID }, query: 'service=or%00ders' }, 'service'],
      [find('GET', '/api/runs'), { query: 'experiment=x%00y' }, 'experiment'],
    ];
    const wrong: string[] = [];
    for (const [r, o, field] of cases) {
      const res = await call(r, o);
      const body = (await res.json()) as { error?: { code: string; issues?: { path: string; message: string }[] } };
      if (res.status !== 400 || body.error?.code !== 'VALIDATION') wrong.push(`${r.method} ${r.pattern} → ${res.status} ${JSON.stringify(body)}`);
      else if (field && !body.error.issues?.some((i) => i.path === field || i.path.startsWith(`${field}`)))
        wrong.push(`${r.method} ${r.pattern}: no issue at ${field}: ${JSON.stringify(body.error.issues)}`);
    }
    expect(wrong).toEqual([]);
  });

  it('pages look runs up through getRun: a NUL or absurd id is not found, not a failed query', async () => {
    const { getRun } = await import('../_lib/queries.js');
    for (const id of ['12\u00003', 'x'.repeat(10_000), '']) await expect(getRun(t.db, id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect((await getRun(t.db, RUN_ID)).id).toBe(RUN_ID);
  });

  it('forged log cursors (time out of range, id beyond bigint, not a cursor) are a cursor field error', async () => {
    const logs = find('GET', '/api/runs/[id]/logs');
    const enc = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const wrong: string[] = [];
    for (const cursor of [
      enc([1e20, '1']),
      enc([-8.64e15, '1']),
      enc([Date.now(), '99999999999999999999999']),
      enc([1.5, '1']),
      enc(['x', '1']),
      'not-a-cursor',
      enc([Date.now(), '1\u00002']),
    ]) {
      const res = await call(logs, { params: { id: RUN_ID }, query: `cursor=${encodeURIComponent(cursor)}` });
      const body = (await res.json()) as { error?: { issues?: { path: string }[] } };
      if (res.status !== 400 || !body.error?.issues?.some((i) => i.path === 'cursor')) wrong.push(`${cursor} → ${res.status} ${JSON.stringify(body)}`);
    }
    expect(wrong).toEqual([]);
    // a real cursor still pages
    const ok = await call(logs, { params: { id: RUN_ID }, query: `cursor=${enc([Date.now(), '1'])}` });
    expect(ok.status).toBe(200);
  });

  it('a YAML alias bomb on /api/experiments/validate (viewers may call it) is a 400 naming the alias line', async () => {
    const rows = ['a: &a [x,x,x,x,x,x,x,x,x]'];
    for (const [i, n] of ['b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'].entries()) rows.push(`${n}: &${n} [${Array(9).fill(`*${'abcdefghi'[i]}`).join(',')}]`);
    const res = await call(find('POST', '/api/experiments/validate'), { body: JSON.stringify({ yaml: rows.join('\n') }), as: viewer });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { issues: { path: string; message: string; line?: number }[] } };
    expect(body.error.issues[0]).toMatchObject({ message: expect.stringMatching(/too many alias expansions/), line: 2 });
    const undefinedAlias = await call(find('POST', '/api/experiments'), { body: JSON.stringify({ yaml: 'name: x\ndescription: *nope\n' }) });
    expect(undefinedAlias.status).toBe(400);
    expect(JSON.stringify(await undefinedAlias.json())).toMatch(/alias \*nope refers to no anchor/);
  });
});
