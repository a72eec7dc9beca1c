/**
 * The Targets API: the list of target files (targets/, examples/) with the
 * experiments that name them, one target, and its check — one line per
 * piece with pass/fail and the reason, operators only — and a target file
 * that does not validate answering its field and line, never a 500.
 *
 * FAULTLINE_TARGETS_ROOT points at a copy of the shipped files plus a broken
 * one; the transfers target's URLs point at a stub service, an in-process
 * fault proxy and this test's database, so nothing reaches a stack someone
 * else runs.
 */
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFaultProxy, type TFaultProxy } from '../../chaos/index.js';
import { createTestDatabase } from '../../db/testing.js';
import { loadApiRoutes, sessions, urlOf, type TAnswer, type TApiRoute, type TIssue, type TSession } from './route-walk.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BROKEN = `name: broken
description: a target whose entry is not a URL
entry:
  url: not-a-url
`;

let t: Awaited<ReturnType<typeof createTestDatabase>>;
let proxy: TFaultProxy;
let web: Server;
/** Requests the stub service answered: a refused check asks it nothing. */
let asked = 0;
let root: string;
let routes: TApiRoute[];
let operator: TSession;
let viewer: TSession;

async function call(method: string, pattern: string, o: { params?: Record<string, string>; as?: TSession | null } = {}): Promise<TAnswer> {
  const r = routes.find((x) => x.method === method && x.pattern === pattern)!;
  const as = o.as === undefined ? operator : o.as;
  const res = await r.handler(new Request(urlOf(r, o.params ?? {}), { method, headers: { ...(as?.headers ?? { host: '127.0.0.1:3000' }) } }), {
    params: Promise.resolve(o.params ?? {}),
  });
  return { status: res.status, json: (await res.json()) as TAnswer['json'] };
}

interface TListed {
  id: string;
  path: string;
  valid: boolean;
  error?: { issues: TIssue[] };
  experiments: { name: string; path: string; shipped: boolean }[];
  target?: { name: string; entry: { url: string }; edges?: { proxies: { name: string }[] }; invariants: { name: string }[] };
}

beforeAll(async () => {
  t = await createTestDatabase();
  proxy = await startFaultProxy({ host: '127.0.0.1', port: 0 });
  // the transfers service, as far as the check asks it: /health and a /metrics with its histogram
  web = createServer((req, res) => {
    asked++;
    if (req.url === '/metrics') {
      res.setHeader('content-type', 'text/plain; version=0.0.4');
      res.end('# TYPE bank_http_request_seconds histogram\nbank_http_request_seconds_bucket{le="0.1",path="/transfers",verb="POST",code="202"} 1\n');
    } else res.end('ok');
  });
  await new Promise<void>((ok) => web.listen(0, '127.0.0.1', ok));
  root = await mkdtemp(path.join(os.tmpdir(), 'fl-targets-'));
  await mkdir(path.join(root, 'targets'));
  await mkdir(path.join(root, 'experiments'));
  await cp(path.join(repo, 'targets/shop.yaml'), path.join(root, 'targets/shop.yaml'));
  await cp(path.join(repo, 'experiments/payments-latency.yaml'), path.join(root, 'experiments/payments-latency.yaml'));
  await cp(path.join(repo, 'examples/transfers'), path.join(root, 'examples/transfers'), {
    recursive: true,
    filter: (src) => !src.includes(`${path.sep}test`),
  });
  await writeFile(path.join(root, 'targets/broken.yaml'), BROKEN);
  await writeFile(path.join(root, 'transfers.log'), '');
  Object.assign(process.env, {
    DATABASE_URL: t.url,
    FAULTLINE_PREFIX: `fltest-targets-${Math.random().toString(36).slice(2, 10)}`,
    FAULTLINE_TARGETS_ROOT: root,
    TOXIPROXY_URL: proxy.url,
    SUPERVISOR_URL: 'http://127.0.0.1:9',
    TRANSFERS_URL: `http://127.0.0.1:${(web.address() as AddressInfo).port}`,
    TRANSFERS_DATABASE_URL: t.url,
    TRANSFERS_LOG_FILE: path.join(root, 'transfers.log'),
  });
  routes = await loadApiRoutes();
  ({ operator, viewer } = await sessions(t.db));
});

afterAll(async () => {
  await proxy?.close();
  await new Promise((r) => web?.close(r));
  if (root) await rm(root, { recursive: true, force: true });
  await t?.drop();
});

describe('targets API', () => {
  it('lists every target file with its pieces and the experiments that name it; a broken file with its field and line', async () => {
    const r = await call('GET', '/api/targets', { as: viewer });
    expect(r.status).toBe(200);
    const list = r.json.targets as TListed[];
    expect(list.map((x) => [x.id, x.path, x.valid])).toEqual([
      ['broken', 'targets/broken.yaml', false],
      ['shop', 'targets/shop.yaml', true],
      ['transfers', 'examples/transfers/target.yaml', true],
    ]);
    const transfers = list.find((x) => x.id === 'transfers')!;
    expect(transfers.target!.entry.url).toBe(process.env.TRANSFERS_URL);
    expect(transfers.target!.edges!.proxies.map((p) => p.name)).toEqual(['transfers->postgres', 'transfers->redis']);
    expect(transfers.target!.invariants.map((i) => i.name)).toContain('money-conserved');
    // the suite in the same folder is not an experiment
    expect(transfers.experiments.map((e) => e.name)).toEqual(['transfers-postgres-reset', 'transfers-worker-killed']);
    expect(transfers.experiments.every((e) => !e.shipped)).toBe(true);
    // target: shop (the default) resolves to targets/shop.yaml
    expect(list.find((x) => x.id === 'shop')!.experiments).toEqual([{ name: 'payments-latency', path: 'experiments/payments-latency.yaml', shipped: true }]);
    expect(list.find((x) => x.id === 'broken')!.error!.issues).toContainEqual(expect.objectContaining({ path: 'entry.url', line: 4 }));
    // neither where the files are on the server nor connection strings reach the browser
    expect(JSON.stringify(r.json)).not.toContain(path.join(root, 'targets'));
    expect(JSON.stringify(r.json)).not.toContain(path.join(root, 'examples'));
    expect(JSON.stringify(r.json)).not.toContain('postgres://');
  });

  it('shows one target to a viewer; an unknown one is 404, signed out is 401', async () => {
    const one = await call('GET', '/api/targets/[id]', { params: { id: 'transfers' }, as: viewer });
    expect(one.status).toBe(200);
    expect(one.json).toMatchObject({ id: 'transfers', valid: true, target: { name: 'transfers' } });
    expect((await call('GET', '/api/targets/[id]', { params: { id: 'nope' }, as: viewer })).status).toBe(404);
    expect((await call('GET', '/api/targets', { as: null })).status).toBe(401);
  });

  it('check: one line per piece with pass or fail and its message, as faultline target check prints them', async () => {
    const r = await call('POST', '/api/targets/[id]/check', { params: { id: 'transfers' } });
    expect(r.status).toBe(200);
    const lines = r.json.lines as { piece: string; ok: boolean; detail: string }[];
    const by = new Map(lines.map((l) => [l.piece, l]));
    expect(by.get('entry')).toMatchObject({ ok: true, detail: expect.stringContaining('HTTP 200') });
    expect(by.get('edges.toxiproxy')).toMatchObject({ ok: true, detail: expect.stringContaining(proxy.url) });
    expect(by.get('edges.proxies.transfers->postgres')).toMatchObject({ ok: true, detail: expect.stringContaining('created at run start') });
    expect(by.get('metrics.scrape.0')).toMatchObject({ ok: true });
    expect(by.get('logs')).toMatchObject({ ok: true });
    expect(by.get('databases.bank')).toMatchObject({ ok: true });
    // the test database has no bank schema: every query names what is missing
    expect(by.get('invariants.money-conserved')).toMatchObject({ ok: false, detail: expect.stringContaining('bank.accounts') });
    expect(by.get('settled')).toMatchObject({ ok: false, detail: expect.stringContaining('bank.transfers') });
    expect(r.json.failed).toBe(lines.filter((l) => !l.ok).length);
  });

  it('check is for operators: a viewer is refused, and nothing was asked of the pieces', async () => {
    const before = asked;
    const r = await call('POST', '/api/targets/[id]/check', { params: { id: 'transfers' }, as: viewer });
    expect(r.status).toBe(403);
    expect(r.json.lines).toBeUndefined();
    expect(asked).toBe(before);
  });

  it('a target file that does not validate answers 400 with the field and its line, not a 500', async () => {
    const r = await call('POST', '/api/targets/[id]/check', { params: { id: 'broken' } });
    expect(r.status).toBe(400);
    expect(r.json.error!.code).toBe('VALIDATION');
    expect(r.json.error!.issues).toContainEqual(expect.objectContaining({ path: 'entry.url', line: 4, message: expect.stringContaining('URL') }));
    expect((await call('POST', '/api/targets/[id]/check', { params: { id: 'nope' } })).status).toBe(404);
  });
});
