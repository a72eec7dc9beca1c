/**
 * Targets saved in the console, through the API and against the real
 * Postgres: create, update and delete; every refusal a 4xx naming the field
 * and its line, never a 500, and a refused save leaving the stored row as it
 * was; a saved target listed beside the files, with its page, its check and
 * its topology as a file's; the one resolver a run uses turning
 * `target: <saved name>` into a file (content-addressed, written once); the
 * experiment editor's picker offering it.
 */
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../db/testing.js';
import { experiments, savedTargets } from '../../db/schema/index.js';
import { loadTarget, SHOP_TARGET_FILE } from '../../targets/index.js';
import { NEW_TARGET_TEMPLATE } from '../_lib/target-template.js';
import { loadApiRoutes, sessions, urlOf, type TAnswer, type TApiRoute, type TSession } from './route-walk.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const saved = { ...process.env };
let t: Awaited<ReturnType<typeof createTestDatabase>>;
let routes: TApiRoute[];
let operator: TSession;
let viewer: TSession;
let web: Server;
let dataDir: string;

async function call(method: string, pattern: string, o: { params?: Record<string, string>; as?: TSession; yaml?: string } = {}): Promise<TAnswer> {
  const r = routes.find((x) => x.method === method && x.pattern === pattern)!;
  const headers = { ...(o.as ?? operator).headers, ...(o.yaml !== undefined ? { 'content-type': 'application/json' } : {}) };
  const body = o.yaml !== undefined ? JSON.stringify({ yaml: o.yaml }) : undefined;
  const res = await r.handler(new Request(urlOf(r, o.params ?? {}), { method, headers, body }), { params: Promise.resolve(o.params ?? {}) });
  return { status: res.status, json: (await res.json()) as TAnswer['json'] };
}

/** The template as a target of its own, its entry this test's small HTTP server (which answers /health: the check has one piece that passes). */
function mine(o: { name?: string; description?: string } = {}): string {
  return NEW_TARGET_TEMPLATE.replace('name: my-service', `name: ${o.name ?? 'mine'}`)
    .replace('What this system does, in one line.', o.description ?? 'a target saved from the console')
    .replaceAll('${MY_SERVICE_URL:-http://127.0.0.1:8600}', `http://127.0.0.1:${(web.address() as AddressInfo).port}`);
}

async function row(name: string) {
  return (await t.db.select().from(savedTargets).where(eq(savedTargets.name, name)))[0];
}

beforeAll(async () => {
  t = await createTestDatabase();
  web = createServer((req, res) => res.end(req.url === '/health' ? 'ok' : ''));
  await new Promise<void>((ok) => web.listen(0, '127.0.0.1', ok));
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'fl-saved-targets-'));
  Object.assign(process.env, {
    DATABASE_URL: t.url,
    FAULTLINE_TARGETS_ROOT: repo,
    FAULTLINE_DATA_DIR: dataDir,
    FAULTLINE_PREFIX: `fltest-saved-targets-${Math.random().toString(36).slice(2, 10)}`,
    TOXIPROXY_URL: 'http://127.0.0.1:9',
  });
  routes = await loadApiRoutes();
  ({ operator, viewer } = await sessions(t.db));
});

afterAll(async () => {
  for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
  Object.assign(process.env, saved);
  await new Promise((r) => web?.close(r));
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
  await t?.drop();
});

describe('saving a target in the console', () => {
  it('the new-target template is a complete, valid target', async () => {
    const r = await call('POST', '/api/targets/validate', { yaml: NEW_TARGET_TEMPLATE, as: viewer });
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ ok: true, name: 'my-service' });
  });

  it('a bad field is a 400 naming the field and its line, and nothing is stored', async () => {
    const bad = mine().replace('  health: /health', '  health: /health\n  timeout: soon');
    const r = await call('POST', '/api/targets', { yaml: bad });
    expect(r.status).toBe(400);
    expect(r.json.error!.code).toBe('VALIDATION');
    // an unknown key is the schema's issue at its block (entry), shown at the block's first line
    expect(r.json.error!.issues).toContainEqual(expect.objectContaining({ path: 'entry', line: 8, message: expect.stringContaining('timeout') }));
    const url = mine().replace(/url: http:\/\/127\.0\.0\.1:\d+/, 'url: not-a-url');
    const r2 = await call('POST', '/api/targets', { yaml: url });
    expect(r2.status).toBe(400);
    expect(r2.json.error!.issues).toContainEqual(expect.objectContaining({ path: 'entry.url', line: 8, message: expect.stringContaining('URL') }));
    expect(await t.db.select().from(savedTargets)).toEqual([]);
  });

  it("a shipped target file's name, or a name the console's pages take, is refused at name", async () => {
    for (const name of ['shop', 'transfers', 'new']) {
      const r = await call('POST', '/api/targets', { yaml: mine({ name }) });
      expect(r.status, name).toBe(400);
      expect(r.json.error!.issues, name).toEqual([expect.objectContaining({ path: 'name', line: 3, message: expect.stringContaining(`"${name}"`) })]);
    }
    expect(await t.db.select().from(savedTargets)).toEqual([]);
  });

  it('creates: stored with who saved it; the same name again is 409 at name; viewers may not save', async () => {
    const r = await call('POST', '/api/targets', { yaml: mine() });
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ id: 'mine' });
    expect(await row('mine')).toMatchObject({ name: 'mine', yaml: mine(), createdBy: 'otto', updatedBy: 'otto' });
    const again = await call('POST', '/api/targets', { yaml: mine({ description: 'another' }) });
    expect(again.status).toBe(409);
    expect(again.json.error!.issues).toEqual([expect.objectContaining({ path: 'name', line: 3 })]);
    expect((await row('mine'))!.yaml).toBe(mine());
    expect((await call('POST', '/api/targets', { yaml: mine({ name: 'theirs' }), as: viewer })).status).toBe(403);
    expect(await row('theirs')).toBeUndefined();
  });

  it('is listed beside the files, marked saved; its page has its pieces and the topology of its edges', async () => {
    const list = (await call('GET', '/api/targets', { as: viewer })).json.targets as { id: string; path: string; saved?: { updatedBy: string } }[];
    expect(list.map((x) => x.id)).toEqual(['shop', 'transfers', 'mine']);
    expect(list.find((x) => x.id === 'mine')).toMatchObject({ path: '', saved: { updatedBy: 'otto' } });
    expect(list.find((x) => x.id === 'shop')!.saved).toBeUndefined();
    const one = await call('GET', '/api/targets/[id]', { params: { id: 'mine' }, as: viewer });
    expect(one.status).toBe(200);
    expect(one.json).toMatchObject({
      id: 'mine',
      valid: true,
      saved: { createdBy: 'otto' },
      target: {
        name: 'mine',
        edges: {
          graph: [
            { name: 'my-service->postgres', from: 'my-service', to: 'postgres' },
            { name: 'my-service->redis', from: 'my-service', to: 'redis' },
          ],
        },
        invariants: [{ name: 'balance-non-negative' }],
      },
    });
    expect(JSON.stringify(one.json)).not.toContain('postgres://');
  });

  it('its check: one line per piece, as for a file', async () => {
    const r = await call('POST', '/api/targets/[id]/check', { params: { id: 'mine' } });
    expect(r.status).toBe(200);
    const by = new Map((r.json.lines as { piece: string; ok: boolean; detail: string }[]).map((l) => [l.piece, l]));
    expect(by.get('entry')).toMatchObject({ ok: true, detail: expect.stringContaining('HTTP 200') });
    expect(by.get('edges.toxiproxy')).toMatchObject({ ok: false });
    expect(by.get('databases.main')).toMatchObject({ ok: false });
    expect(r.json).toMatchObject({ id: 'mine', name: 'mine', failed: expect.any(Number) });
  });

  it('an invalid update is 400 at its field and line and leaves the stored row as it was; renaming is refused', async () => {
    const before = await row('mine');
    const bad = mine().replace('    max: 30s', '    max: forever').replace('  max: 30s', '  max: forever');
    const r = await call('PUT', '/api/targets/[id]', { params: { id: 'mine' }, yaml: bad });
    expect(r.status).toBe(400);
    const line = bad.split('\n').findIndex((l) => l.includes('max: forever')) + 1;
    expect(r.json.error!.issues).toContainEqual(expect.objectContaining({ path: 'settled.max', line }));
    const renamed = await call('PUT', '/api/targets/[id]', { params: { id: 'mine' }, yaml: mine({ name: 'yours' }) });
    expect(renamed.status).toBe(400);
    expect(renamed.json.error!.issues).toEqual([expect.objectContaining({ path: 'name', line: 3, message: expect.stringContaining('must stay "mine"') })]);
    expect(await row('mine')).toEqual(before);
    expect(await row('yours')).toBeUndefined();
  });

  it('a valid update is stored; a target file cannot be edited or deleted here (409); an unknown one is 404', async () => {
    const edited = mine({ description: 'edited in the console' });
    const r = await call('PUT', '/api/targets/[id]', { params: { id: 'mine' }, yaml: edited });
    expect(r.status).toBe(200);
    expect(await row('mine')).toMatchObject({ yaml: edited, createdBy: 'otto', updatedBy: 'otto' });
    expect((await call('PUT', '/api/targets/[id]', { params: { id: 'shop' }, yaml: mine({ name: 'shop' }) })).status).toBe(409);
    expect((await call('DELETE', '/api/targets/[id]', { params: { id: 'shop' } })).status).toBe(409);
    expect((await call('PUT', '/api/targets/[id]', { params: { id: 'nope' }, yaml: mine({ name: 'nope' }) })).status).toBe(404);
    expect((await call('GET', '/api/targets/[id]', { params: { id: 'nope' }, as: viewer })).status).toBe(404);
  });
});

describe('experiments naming a saved target', () => {
  it('resolveTargetFile: a saved name becomes a file of exactly its text, written once per version; shop and paths are files already', async () => {
    const { resolveTargetFile } = await import('../../workers/targets/index.js');
    const file = await resolveTargetFile(t.db, 'mine');
    expect(path.dirname(file)).toBe(path.join(dataDir, 'targets'));
    expect(path.basename(file)).toMatch(/^mine\.[0-9a-f]{12}\.yaml$/);
    expect(await readFile(file, 'utf8')).toBe((await row('mine'))!.yaml);
    expect((await loadTarget(file)).target.description).toBe('edited in the console');
    expect(await resolveTargetFile(t.db, 'mine')).toBe(file);
    // a new version is a new file; the one a running (or crashed) run reads stays
    await call('PUT', '/api/targets/[id]', { params: { id: 'mine' }, yaml: mine({ description: 'third version' }) });
    const next = await resolveTargetFile(t.db, 'mine');
    expect(next).not.toBe(file);
    expect((await loadTarget(next)).target.description).toBe('third version');
    expect((await loadTarget(file)).target.description).toBe('edited in the console');
    expect(await resolveTargetFile(t.db, 'shop')).toBe(SHOP_TARGET_FILE);
    expect(await resolveTargetFile(t.db, 'examples/transfers/target.yaml', { cwd: repo })).toBe(path.join(repo, 'examples/transfers/target.yaml'));
    await expect(resolveTargetFile(t.db, 'nope')).rejects.toMatchObject({
      code: 'NOT_FOUND',
      issues: [{ path: 'target', message: 'no saved target "nope"; saved: mine' }],
    });
  });

  it('New target from a file: its text under <name>-copy, which saves as a target of its own', async () => {
    const { targetFileCopy } = await import('../_lib/targets.js');
    const copy = await targetFileCopy('transfers');
    expect(copy).toBe((await readFile(path.join(repo, 'examples/transfers/target.yaml'), 'utf8')).replace(/^name: transfers$/m, 'name: transfers-copy'));
    expect((await call('POST', '/api/targets/validate', { yaml: copy, as: viewer })).json).toEqual({ ok: true, name: 'transfers-copy' });
  });

  it("the experiment editor's picker offers it by name", async () => {
    const { targetChoices } = await import('../_lib/targets.js');
    const choices = await targetChoices();
    expect(choices).toContainEqual({ value: 'mine', label: 'mine (saved in the console)' });
    expect(choices[0].value).toBe('shop');
  });

  it('delete: refused while a saved experiment names it (naming the experiment), then removed', async () => {
    await t.db.insert(experiments).values({ id: 'uses-mine', name: 'uses-mine', definition: { name: 'uses-mine', target: 'mine' } });
    const refused = await call('DELETE', '/api/targets/[id]', { params: { id: 'mine' } });
    expect(refused.status).toBe(409);
    expect(refused.json.error!.message).toContain('uses-mine');
    const listed = (await call('GET', '/api/targets/[id]', { params: { id: 'mine' }, as: viewer })).json;
    expect(listed.experiments).toEqual([{ name: 'uses-mine', path: '', shipped: true }]);
    expect((await call('DELETE', '/api/targets/[id]', { params: { id: 'mine' }, as: viewer })).status).toBe(403);
    await t.db.delete(experiments).where(eq(experiments.id, 'uses-mine'));
    const r = await call('DELETE', '/api/targets/[id]', { params: { id: 'mine' } });
    expect(r.status).toBe(200);
    expect(await row('mine')).toBeUndefined();
    expect((await call('GET', '/api/targets/[id]', { params: { id: 'mine' }, as: viewer })).status).toBe(404);
  });
});
