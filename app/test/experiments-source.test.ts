/**
 * Experiments keep one source of truth (issue 13): a shipped file stays the
 * experiment when it is run (the run's record never freezes a copy), until
 * a user saves an edited copy; deleting the copy goes back to the file;
 * creating with a taken name is 409; saved experiments can be deleted.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../db/testing.js';
import { experiments, runs, schedules } from '../../db/schema/index.js';
import { EXPERIMENTS_DIR } from '../../experiments/index.js';
import { loadApiRoutes, sessions, urlOf, type TApiRoute, type TSession } from './route-walk.js';

const ID = 'payments-latency';
let t: Awaited<ReturnType<typeof createTestDatabase>>;
let routes: TApiRoute[];
let operator: TSession;
let viewer: TSession;
let fileText: string;

async function call(method: string, pattern: string, o: { params?: Record<string, string>; body?: unknown; as?: TSession } = {}) {
  const r = routes.find((x) => x.method === method && x.pattern === pattern)!;
  const res = await r.handler(
    new Request(urlOf(r, o.params ?? {}), {
      method,
      headers: { 'content-type': 'application/json', ...(o.as ?? operator).headers },
      ...(o.body !== undefined ? { body: JSON.stringify(o.body) } : {}),
    }),
    { params: Promise.resolve(o.params ?? {}) },
  );
  return {
    status: res.status,
    json: (await res.json()) as Record<string, unknown> & { error?: { code: string; message: string; issues?: { path: string }[] } },
  };
}

const get = (id: string) => call('GET', '/api/experiments/[id]', { params: { id } });
const list = async () => (await call('GET', '/api/experiments')).json.experiments as { id: string; source: string; editedFrom?: string; description: string }[];

beforeAll(async () => {
  t = await createTestDatabase();
  process.env.DATABASE_URL = t.url;
  process.env.FAULTLINE_PREFIX = `fltest-exps-${Math.random().toString(36).slice(2, 10)}`;
  process.env.TOXIPROXY_URL = 'http://127.0.0.1:9';
  process.env.SUPERVISOR_URL = 'http://127.0.0.1:9';
  routes = await loadApiRoutes();
  ({ operator, viewer } = await sessions(t.db));
  fileText = await readFile(path.join(EXPERIMENTS_DIR, `${ID}.yaml`), 'utf8');
});

afterAll(async () => {
  const { platform } = await import('../_lib/runs.js');
  const p = platform();
  const keys = await p.redis.keys(`${p.prefix}:*`);
  if (keys.length) await p.redis.del(...keys);
  await p.close();
  await t?.drop();
});

describe('experiments: one source of truth', () => {
  it('running a shipped experiment freezes no copy: the file stays the experiment', async () => {
    const run = await call('POST', '/api/runs', { body: { experimentId: ID } });
    expect(run.status).toBe(200);
    const [row] = await t.db.select().from(experiments).where(eq(experiments.id, ID));
    expect(row.sourcePath).toBe(`experiments/${ID}.yaml`);
    // the file changes after that run (here: the record goes stale); the console still shows and runs the file
    await t.db
      .update(experiments)
      .set({ sourceText: fileText.replace(/^description: .*$/m, 'description: stale record') })
      .where(eq(experiments.id, ID));
    const d = await get(ID);
    expect(d.json).toMatchObject({ source: 'shipped', yaml: fileText });
    expect((await list()).find((e) => e.id === ID)).toMatchObject({ source: 'shipped' });
    const again = await call('POST', '/api/runs', { body: { experimentId: ID } });
    const [r2] = await t.db
      .select()
      .from(runs)
      .where(eq(runs.id, again.json.id as string));
    expect((r2.definition as { description: string }).description).not.toBe('stale record');
  });

  it('saving an edited version makes an "edited copy of" the file; runs use it; running the file elsewhere does not overwrite it; deleting it goes back to the file', async () => {
    const edited = fileText.replace(/^description: .*$/m, 'description: my edited copy');
    const put = await call('PUT', '/api/experiments/[id]', { params: { id: ID }, body: { yaml: edited } });
    expect(put.status).toBe(200);
    expect(put.json).toMatchObject({ source: 'edited', editedFrom: `experiments/${ID}.yaml` });
    expect((await get(ID)).json).toMatchObject({ source: 'edited', editedFrom: `experiments/${ID}.yaml`, yaml: edited });
    expect((await list()).find((e) => e.id === ID)).toMatchObject({ source: 'edited', editedFrom: `experiments/${ID}.yaml`, description: 'my edited copy' });
    const run = await call('POST', '/api/runs', { body: { experimentId: ID } });
    const [r] = await t.db
      .select()
      .from(runs)
      .where(eq(runs.id, run.json.id as string));
    expect((r.definition as { description: string }).description).toBe('my edited copy');
    // the CLI runs the shipped file itself: that run records nothing over the user's copy
    const { enqueueRun } = await import('../../workers/index.js');
    const { platform } = await import('../_lib/runs.js');
    await enqueueRun(platform(), { yaml: fileText, sourcePath: path.join(EXPERIMENTS_DIR, `${ID}.yaml`), trigger: 'cli' });
    expect((await get(ID)).json).toMatchObject({ source: 'edited', yaml: edited });
    // the way back: delete the copy
    const del = await call('DELETE', '/api/experiments/[id]', { params: { id: ID } });
    expect(del.status).toBe(200);
    expect(del.json).toMatchObject({ now: 'shipped' });
    expect((await get(ID)).json).toMatchObject({ source: 'shipped', yaml: fileText });
    // runs of the copy keep their link to the experiment
    const [kept] = await t.db
      .select()
      .from(runs)
      .where(eq(runs.id, run.json.id as string));
    expect(kept.experimentId).toBe(ID);
  });

  it('creating with a name that exists (shipped or saved) is 409 and changes nothing', async () => {
    const taken = await call('POST', '/api/experiments', { body: { yaml: fileText.replace(/^description: .*$/m, 'description: overwrite attempt') } });
    expect(taken.status).toBe(409);
    expect(taken.json.error).toMatchObject({ code: 'CONFLICT', issues: [{ path: 'name' }] });
    expect((await get(ID)).json).toMatchObject({ source: 'shipped', yaml: fileText });
    const mine = fileText.replace(/^name: .*$/m, 'name: my-new-exp');
    expect((await call('POST', '/api/experiments', { body: { yaml: mine } })).status).toBe(200);
    const twice = await call('POST', '/api/experiments', { body: { yaml: mine.replace(/^description: .*$/m, 'description: second') } });
    expect(twice.status).toBe(409);
    expect((await get('my-new-exp')).json).toMatchObject({ source: 'saved', yaml: mine });
  });

  it('validation checks against what exists: a fault target that is no edge and an unknown scenario are field errors at their lines', async () => {
    const bad = fileText
      .replace(/^name: .*$/m, 'name: bad-targets')
      .replace(/target: orders->payments/, 'target: foo->bar')
      .replace(/scenario: [\w-]+/, 'scenario: no-such-scenario');
    for (const [method, pattern, as] of [
      ['POST', '/api/experiments/validate', viewer],
      ['POST', '/api/experiments', operator],
    ] as const) {
      const r = await call(method, pattern, { body: { yaml: bad }, as });
      expect(r.status).toBe(400);
      const issues = r.json.error!.issues as { path: string; message: string; line?: number }[];
      expect(issues.map((i) => i.path).sort()).toEqual(['faults.0.fault.target', 'load.scenario']);
      expect(issues.find((i) => i.path === 'faults.0.fault.target')!.message).toMatch(/unknown edge "foo->bar"/);
      expect(issues.every((i) => typeof i.line === 'number')).toBe(true);
    }
    expect((await get('bad-targets')).status).toBe(404);
  });

  it('a saved experiment can be deleted (not while a schedule starts it), a shipped file cannot, a viewer cannot delete', async () => {
    const yaml = fileText.replace(/^name: .*$/m, 'name: doomed-exp');
    expect((await call('POST', '/api/experiments', { body: { yaml } })).status).toBe(200);
    expect((await call('DELETE', '/api/experiments/[id]', { params: { id: 'doomed-exp' }, as: viewer })).status).toBe(403);
    const sch = await call('POST', '/api/schedules', { body: { name: 'nightly-doomed', kind: 'experiment', ref: 'doomed-exp', cron: '0 3 * * *' } });
    expect(sch.status).toBe(200);
    const blocked = await call('DELETE', '/api/experiments/[id]', { params: { id: 'doomed-exp' } });
    expect(blocked.status).toBe(409);
    expect(blocked.json.error!.message).toMatch(/nightly-doomed/);
    expect((await call('DELETE', '/api/schedules/[id]', { params: { id: sch.json.id as string }, as: viewer })).status).toBe(403);
    expect((await call('DELETE', '/api/schedules/[id]', { params: { id: sch.json.id as string } })).status).toBe(200);
    expect(
      await t.db
        .select()
        .from(schedules)
        .where(eq(schedules.id, sch.json.id as string)),
    ).toEqual([]);
    expect((await call('DELETE', '/api/experiments/[id]', { params: { id: 'doomed-exp' } })).json).toMatchObject({ now: 'deleted' });
    expect((await get('doomed-exp')).status).toBe(404);
    const shipped = await call('DELETE', '/api/experiments/[id]', { params: { id: ID } });
    expect(shipped.status).toBe(409);
    expect(shipped.json.error!.message).toMatch(/shipped as experiments\/payments-latency.yaml/);
  });
});
