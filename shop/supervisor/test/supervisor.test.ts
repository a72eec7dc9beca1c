/**
 * The supervisor with real payments instances (two of them), real Postgres
 * and Redis, through its admin API: process faults, HTTP faults, run context,
 * logs, edges. Other services are left out (count 0) so this suite stays
 * fast; the whole shop runs in shop-e2e.test.ts.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SHOP_EDGE_NAMES } from '../../config.js';
import { dropShopDatabase } from '../../db/index.js';
import { startSupervisor, type TEdgeView, type TInstanceInfo, type TLogPage, type TSupervisor } from '../index.js';
import { freePortBase, json, statusOf, waitFor } from './helpers.js';

const prefix = `fltest${randomBytes(4).toString('hex')}`;
const databaseUrl = `postgres://postgres@127.0.0.1:5432/fl_test_${randomBytes(5).toString('hex')}`;
const logDir = mkdtempSync(path.join(os.tmpdir(), 'fl-sup-'));
let sup: TSupervisor;
let base: number;

const api = (p: string) => `${sup.url}${p}`;
const instance = async (id: string) => (await json<TInstanceInfo>(api(`/instances/${id}`))).body;
const paymentsUrl = (i: number) => `http://127.0.0.1:${base + 40 + i}`;

beforeAll(async () => {
  base = await freePortBase();
  sup = await startSupervisor({
    instances: { gateway: 0, users: 0, catalog: 0, orders: 0, payments: 2 },
    portBase: base,
    adminPort: 0,
    databaseUrl,
    logDir,
    stateDir: logDir,
    backoffInitialMs: 100,
    env: { SHOP_REGISTRY_PREFIX: `${prefix}:registry`, SHOP_REDIS_PREFIX: prefix, LOG_LEVEL: 'info' },
    startTimeoutMs: 60_000,
  });
}, 120_000);

afterAll(async () => {
  await sup?.close();
  expect(existsSync(path.join(logDir, `supervisor-${base}.json`))).toBe(false);
  await dropShopDatabase(databaseUrl).catch(() => undefined);
  const redis = new Redis('redis://127.0.0.1:6379');
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
  rmSync(logDir, { recursive: true, force: true });
});

describe('supervisor admin API', () => {
  it('lists both payments instances running on base+40+i', async () => {
    const { status, body } = await json<TInstanceInfo[]>(api('/instances'));
    expect(status).toBe(200);
    expect(body.map((i) => [i.id, i.state, i.port])).toEqual([
      ['payments-0', 'running', base + 40],
      ['payments-1', 'running', base + 41],
    ]);
    expect(await statusOf(`${paymentsUrl(1)}/health`)).toBe(200);
  });

  it('SIGKILL through the API: the instance is restarted with a new pid', async () => {
    const before = await instance('payments-1');
    const r = await json(api('/instances/payments-1/kill'), { method: 'POST', body: '{}' });
    expect(r.status).toBe(200);
    const after = await waitFor(
      'payments-1 restarted',
      async () => {
        const i = await instance('payments-1');
        return i.state === 'running' && i.pid !== before.pid ? i : null;
      },
      30_000,
    );
    expect(after.restarts).toBe(before.restarts + 1);
    expect(await statusOf(`${paymentsUrl(1)}/health`)).toBe(200);
  });

  it('pause: the instance stops answering; resume: it answers again', async () => {
    expect((await json<TInstanceInfo>(api('/instances/payments-0/pause'), { method: 'POST' })).body.state).toBe('paused');
    expect(await statusOf(`${paymentsUrl(0)}/health`, 400)).toBe(0);
    expect((await json<TInstanceInfo>(api('/instances/payments-0/resume'), { method: 'POST' })).body.state).toBe('running');
    expect(await waitFor('answers after resume', async () => (await statusOf(`${paymentsUrl(0)}/health`, 1000)) === 200)).toBe(true);
  });

  it('kill with hold: down until the hold ends, then restarted', async () => {
    const hold = 4000;
    const t0 = Date.now();
    expect((await json(api('/instances/payments-1/kill'), { method: 'POST', body: JSON.stringify({ hold }) })).status).toBe(200);
    await waitFor('stopped', async () => (await instance('payments-1')).state === 'stopped');
    // inside the hold (a 4 s hold leaves room for a slow machine; checked only while well inside it): still down
    await new Promise((r) => setTimeout(r, 1000));
    if (Date.now() - t0 < hold - 500) {
      expect((await instance('payments-1')).state).toBe('stopped');
      expect(await statusOf(`${paymentsUrl(1)}/health`, 300)).toBe(0);
    }
    await waitFor('running after hold', async () => (await instance('payments-1')).state === 'running', 30_000);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(hold - 50);
  });

  it('HTTP fault abort 100 % on a route answers that status on every instance; delete restores; survives a restart', async () => {
    const route = `${paymentsUrl(0)}/payments?orderId=1`;
    expect(await statusOf(route, 3000)).toBe(200);
    const add = await json<{ id: string; instances: string[]; failed: unknown[] }>(api('/http-faults'), {
      method: 'POST',
      body: JSON.stringify({ service: 'payments', route: '/payments', method: 'GET', kind: 'abort', status: 418, percentage: 100 }),
    });
    expect(add.status).toBe(201);
    expect(add.body.instances).toEqual(['payments-0', 'payments-1']);
    expect(add.body.failed).toEqual([]);
    for (const i of [0, 1]) for (let n = 0; n < 5; n++) expect(await statusOf(`${paymentsUrl(i)}/payments?orderId=1`, 3000)).toBe(418);
    // control paths are never faulted
    expect(await statusOf(`${paymentsUrl(0)}/health`)).toBe(200);

    // a restarted instance gets the fault back before it counts as running
    const pid = (await instance('payments-0')).pid;
    await json(api('/instances/payments-0/kill'), { method: 'POST' });
    await waitFor(
      'restarted',
      async () => {
        const i = await instance('payments-0');
        return i.state === 'running' && i.pid !== pid;
      },
      30_000,
    );
    expect(await statusOf(route, 3000)).toBe(418);

    const listed = await json<{ id: string }[]>(api('/http-faults'));
    expect(listed.body.map((f) => f.id)).toEqual([add.body.id]);
    expect((await json(api(`/http-faults/${add.body.id}`), { method: 'DELETE' })).status).toBe(200);
    for (const i of [0, 1]) expect(await statusOf(`${paymentsUrl(i)}/payments?orderId=1`, 3000)).toBe(200);
    expect((await json(api(`/http-faults/${add.body.id}`), { method: 'DELETE' })).status).toBe(404);
  });

  it('run context: instances add runId to their log lines; logs page by cursor with service and instance', async () => {
    const runId = `run-${randomBytes(3).toString('hex')}`;
    const start = (await json<TLogPage>(api('/logs?after=0&limit=1'))).body;
    expect(start.lines[0]).toMatchObject({ cursor: expect.any(Number), service: 'payments', instance: expect.stringMatching(/^payments-[01]$/) });
    const set = await json<{ runId: string; instances: string[] }>(api('/context'), { method: 'PUT', body: JSON.stringify({ runId }) });
    expect(set.body).toMatchObject({ runId, instances: ['payments-0', 'payments-1'] });
    const tagged = await waitFor('lines with runId from both instances', async () => {
      const page = (await json<TLogPage>(api('/logs?after=0&limit=10000'))).body;
      const withRun = page.lines.filter((l) => (JSON.parse(l.line) as { runId?: string }).runId === runId);
      const instances = new Set(withRun.map((l) => l.instance));
      return instances.size === 2 ? withRun : null;
    });
    expect(tagged.every((l) => l.service === 'payments')).toBe(true);
    // cursors are strictly increasing and `next` continues after the page
    const page = (await json<TLogPage>(api('/logs?after=0&limit=50'))).body;
    const cursors = page.lines.map((l) => l.cursor);
    expect(cursors).toEqual([...cursors].sort((a, b) => a - b));
    expect(page.next).toBe(cursors[cursors.length - 1]);
    const more = (await json<TLogPage>(api(`/logs?after=${page.next}&limit=5`))).body;
    expect(more.lines.every((l) => l.cursor > page.next)).toBe(true);
    await json(api('/context'), { method: 'PUT', body: JSON.stringify({ runId: null }) });
    expect((await json(api('/context'))).body).toEqual({ runId: null });
  });

  it('edges list every configured edge (direct: no proxies)', async () => {
    const { body } = await json<TEdgeView[]>(api('/edges'));
    expect(body.map((e) => e.name)).toEqual([...SHOP_EDGE_NAMES]);
    expect(body.every((e) => e.proxies.length === 0)).toBe(true);
  });

  it('serves Prometheus HTTP service discovery for every instance', async () => {
    const { status, body } = await json<{ targets: string[]; labels: Record<string, string> }[]>(api('/sd/prometheus'));
    expect(status).toBe(200);
    expect(body).toEqual([
      { targets: [`127.0.0.1:${base + 40}`], labels: { service: 'payments', instance: 'payments-0' } },
      { targets: [`127.0.0.1:${base + 41}`], labels: { service: 'payments', instance: 'payments-1' } },
    ]);
  });

  it('records its children in the state file, and removes it when stopped cleanly', async () => {
    const file = path.join(logDir, `supervisor-${base}.json`);
    const state = JSON.parse(readFileSync(file, 'utf8')) as { supervisorPid: number; children: { id: string; pid: number }[] };
    expect(state.supervisorPid).toBe(process.pid);
    const pids = (await json<TInstanceInfo[]>(api('/instances'))).body.map((i) => ({ id: i.id, pid: i.pid }));
    // each child is recorded with its start time too (the orphan cleaner only kills what it can prove it started)
    expect(state.children.map(({ id, pid }) => ({ id, pid }))).toEqual(pids);
  });

  it('bad input gets a field-level 400, unknown ids a 404, never a 500', async () => {
    const bad = await json<{ error: { code: string; issues: { path: string }[] } }>(api('/http-faults'), {
      method: 'POST',
      body: JSON.stringify({ service: 'payments', kind: 'abort', status: 200, percentage: 101 }),
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('VALIDATION');
    expect(bad.body.error.issues.map((i) => i.path).sort()).toEqual(['percentage', 'status']);
    const hold = await json<{ error: { issues: { path: string }[] } }>(api('/instances/payments-0/kill'), { method: 'POST', body: '{"hold":-5}' });
    expect(hold.status).toBe(400);
    expect(hold.body.error.issues[0].path).toBe('hold');
    expect((await json(api('/instances/orders-7/kill'), { method: 'POST' })).status).toBe(404);
    expect((await json(api('/instances/payments-0/resume'), { method: 'POST' })).status).toBe(409);
    const notJson = await fetch(api('/context'), { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{nope' });
    expect(notJson.status).toBe(400);
    expect((await json(api('/logs?after=-1'))).status).toBe(400);
    // curl -d sends form encoding: the body is still read as JSON
    const form = await fetch(api('/instances/payments-0/kill'), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: '{"hold":"x"}',
    });
    expect(form.status).toBe(400);
    expect(((await form.json()) as { error: { issues: { path: string }[] } }).error.issues[0].path).toBe('hold');
  });
});
