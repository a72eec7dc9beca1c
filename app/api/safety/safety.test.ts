/**
 * The safety lever's HTTP surface, through the real route handlers (auth,
 * CSRF, zod, the lever in Postgres): viewers read it, operators engage with
 * a reason and release; /api/faults/halt engages it too; bad input is a
 * field error, never a 500. The proxy and supervisor are unreachable ports
 * here: the halt reports them as not reached, the lever still holds.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runs } from '../../../db/schema/index.js';
import { createTestDatabase } from '../../../db/testing.js';

let t: Awaited<ReturnType<typeof createTestDatabase>>;
let viewer: Record<string, string>;
let operator: Record<string, string>;
let safety: typeof import('./route.js');
let halt: typeof import('../faults/halt/route.js');
let enqueue: typeof import('../../../workers/runs/enqueue-run.js');
const BASE = 'http://127.0.0.1:3000';

function req(method: string, path: string, headers: Record<string, string>, body?: unknown): Request {
  return new Request(`${BASE}${path}`, {
    method,
    headers: { host: '127.0.0.1:3000', origin: BASE, ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
}

beforeAll(async () => {
  t = await createTestDatabase();
  // before anything reads the configuration (cached per process)
  process.env.DATABASE_URL = t.url;
  process.env.FAULTLINE_PREFIX = `fltest-lever-${Math.random().toString(36).slice(2, 10)}`;
  process.env.TOXIPROXY_URL = 'http://127.0.0.1:9';
  process.env.SUPERVISOR_URL = 'http://127.0.0.1:9';
  delete process.env.FAULTLINE_USERS;
  const { createSession } = await import('../../_lib/auth/session.js');
  const v = await createSession(t.db, { name: 'vera', role: 'viewer' });
  const o = await createSession(t.db, { name: 'otto', role: 'operator' });
  viewer = { cookie: `fl_session=${v.secret}; fl_csrf=${v.csrfToken}`, 'x-csrf-token': v.csrfToken };
  operator = { cookie: `fl_session=${o.secret}; fl_csrf=${o.csrfToken}`, 'x-csrf-token': o.csrfToken };
  safety = await import('./route.js');
  halt = await import('../faults/halt/route.js');
  enqueue = await import('../../../workers/runs/enqueue-run.js');
});

afterAll(async () => {
  const { platform } = await import('../../_lib/runs.js');
  const p = platform();
  const keys = await p.redis.keys(`${p.prefix}:*`);
  if (keys.length) await p.redis.del(...keys);
  await p.close();
  await t?.drop();
});

describe('/api/safety', () => {
  it('viewers see it, may not pull it; operators engage with a reason, everyone sees who and why, release clears it', async () => {
    let r = await safety.GET(req('GET', '/api/safety', viewer));
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ lever: { engaged: false }, history: [] });

    r = await safety.POST(req('POST', '/api/safety', viewer, { reason: 'nope' }));
    expect(r.status).toBe(403);

    r = await safety.POST(req('POST', '/api/safety', operator, { reason: 'payments on fire' }));
    expect(r.status).toBe(200);
    const engaged = (await r.json()) as { lever: { engaged: boolean; by: string; reason: string }; halt: { errors: { component: string }[] }; runs: unknown[] };
    expect(engaged.lever).toMatchObject({ engaged: true, by: 'otto', reason: 'payments on fire' });
    // proxy and supervisor are down here: reported, and the lever holds anyway
    expect(engaged.halt.errors.map((e) => e.component).sort()).toEqual(['proxy', 'supervisor']);

    r = await safety.GET(req('GET', '/api/safety', viewer));
    expect(await r.json()).toMatchObject({ lever: { engaged: true, by: 'otto', reason: 'payments on fire' }, history: [{ action: 'engaged', by: 'otto' }] });

    // a run asked for while engaged: 423 through the error catalogue every route answers with, and no run row
    const { errorResponse } = await import('../../_lib/route.js');
    const { platform } = await import('../../_lib/runs.js');
    const yaml = readFileSync('experiments/payments-latency.yaml', 'utf8');
    const refused = await enqueue.enqueueRun(platform(), { yaml, trigger: 'api' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    const res = errorResponse(refused);
    expect(res.status).toBe(423);
    expect(await res.json()).toMatchObject({ error: { code: 'HALTED', message: expect.stringContaining('by otto') } });
    expect(await t.db.select().from(runs)).toEqual([]);

    r = await safety.DELETE(req('DELETE', '/api/safety', viewer));
    expect(r.status).toBe(403);
    r = await safety.DELETE(req('DELETE', '/api/safety', operator, { reason: 'fixed' }));
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ released: true, lever: { engaged: false }, previous: { by: 'otto' } });
    r = await safety.GET(req('GET', '/api/safety', viewer));
    expect(await r.json()).toMatchObject({ lever: { engaged: false }, history: [{ action: 'released', by: 'otto', reason: 'fixed' }, { action: 'engaged' }] });
  });

  it('POST /api/faults/halt engages the lever (default reason), and the console answers HALTED as 423', async () => {
    const r = await halt.POST(req('POST', '/api/faults/halt', operator, {}));
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ lever: { engaged: true, by: 'otto', reason: 'halt all from the console' } });
    const { errorResponse } = await import('../../_lib/route.js');
    const { assertLeverReleased } = await import('../../../chaos/index.js');
    const e = await assertLeverReleased(t.db, 'new runs').catch((x: unknown) => x);
    const res = errorResponse(e);
    expect(res.status).toBe(423);
    expect(await res.json()).toMatchObject({ error: { code: 'HALTED', message: expect.stringContaining('by otto') } });
    expect((await safety.DELETE(req('DELETE', '/api/safety', operator))).status).toBe(200);
  });

  it('bad input is a field error, never a 500', async () => {
    for (const body of [{}, { reason: '' }, { reason: '   ' }, { reason: 'x'.repeat(1001) }, { reason: 'ok', extra: 1 }, { reason: 42 }, '[', 'null']) {
      const r = await safety.POST(req('POST', '/api/safety', operator, body));
      expect(r.status, JSON.stringify(body)).toBe(400);
    }
    // NUL (Postgres refuses it in text) is stripped or refused, not a 500
    const r = await safety.POST(req('POST', '/api/safety', operator, { reason: 'a\u0000b' }));
    expect(r.status).toBeLessThan(500);
    await safety.DELETE(req('DELETE', '/api/safety', operator));
  });
});
