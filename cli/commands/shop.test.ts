/**
 * `faultline shop up` end to end: the whole shop (two payments instances)
 * under the supervisor, every edge through a real fault proxy server
 * (faultline's Toxiproxy-compatible one, driven by toxiproxy-node-client),
 * real Postgres and Redis, random ports, database and Redis prefix.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { Redis } from 'ioredis';
import { Toxiproxy } from 'toxiproxy-node-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFaultProxy } from '../../chaos/index.js';
import { AppError } from '../../core/errors.js';
import { SHOP_EDGE_LIST } from '../../shop/config.js';
import { dropShopDatabase } from '../../shop/db/index.js';
import type { TEdgeView, TSupervisor } from '../../shop/supervisor/index.js';
import { freePortBase, json, waitFor } from '../../shop/supervisor/test/helpers.js';
import { shopStatus, shopUp } from './shop.js';

const tag = randomBytes(4).toString('hex');
const databaseUrl = `postgres://postgres@127.0.0.1:5432/fl_test_${tag}`;
const prefix = `fltest${tag}`;
const logDir = mkdtempSync(path.join(os.tmpdir(), 'fl-shopup-'));
let proxyServer: Awaited<ReturnType<typeof startFaultProxy>>;
let sup: TSupervisor;
let stop: () => Promise<void>;
let printed = '';
let token = '';
let productId = '';

const gw = () => sup.gatewayUrl;

async function checkout(): Promise<number> {
  const r = await fetch(`${gw()}/checkout`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'idempotency-key': randomUUID() },
    body: JSON.stringify({ items: [{ productId, qty: 1 }] }),
    signal: AbortSignal.timeout(15_000),
  }).catch(() => null);
  if (!r) return 0;
  await r.body?.cancel();
  return r.status;
}

async function login(): Promise<{ status: number; ms: number }> {
  const t0 = performance.now();
  const r = await json<{ token: string }>(`${gw()}/login`, { method: 'POST', body: JSON.stringify({ email: 'alice@shop.test', password: 'alice-password' }) });
  if (r.status === 200) token = r.body.token;
  return { status: r.status, ms: performance.now() - t0 };
}

beforeAll(async () => {
  Object.assign(process.env, {
    SHOP_DATABASE_URL: databaseUrl,
    SHOP_REGISTRY_PREFIX: `${prefix}:registry`,
    SHOP_REDIS_PREFIX: prefix,
    // short TTL so a lost instance leaves the registry quickly
    SHOP_REGISTRY_TTL_MS: '1000',
  });
  proxyServer = await startFaultProxy({ host: '127.0.0.1', port: 0 });
  const out = new PassThrough();
  out.on('data', (c: Buffer) => (printed += c.toString()));
  const portBase = await freePortBase();
  ({ supervisor: sup, stop } = await shopUp(
    { instances: 'payments=2', portBase: String(portBase), toxiproxyUrl: proxyServer.url, adminPort: '0', logDir } as never,
    out,
  ));
  expect((await login()).status).toBe(200);
  const products = await json<{ products: { id: string; sku: string }[] }>(`${gw()}/products`);
  productId = products.body.products.find((p) => p.sku === 'STICK-001')!.id;
}, 180_000);

afterAll(async () => {
  await stop?.();
  await proxyServer?.close();
  await dropShopDatabase(databaseUrl).catch(() => undefined);
  const redis = new Redis('redis://127.0.0.1:6379');
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
  rmSync(logDir, { recursive: true, force: true });
});

describe('faultline shop up', () => {
  it('prints what runs where', () => {
    expect(printed).toContain('shop ready: 6 instances');
    for (const id of ['gateway-0', 'users-0', 'catalog-0', 'orders-0', 'payments-0', 'payments-1']) expect(printed).toContain(id);
    expect(printed).toContain('orders->payments#1');
    expect(printed).toContain(`proxy       ${proxyServer.url}`);
  });

  it('creates one proxy per edge and target instance on the proxy server, as the edges API reports', async () => {
    const edges = (await json<TEdgeView[]>(`${sup.url}/edges`)).body;
    expect(edges.map((e) => e.name)).toEqual(SHOP_EDGE_LIST.map((e) => e.name));
    const onServer = await new Toxiproxy(proxyServer.url).getAll();
    const reported = edges.flatMap((e) => e.proxies);
    expect(Object.keys(onServer).sort()).toEqual(reported.map((p) => p.name).sort());
    for (const p of reported) expect(onServer[p.name].listen).toBe(p.listen);
    expect(edges.find((e) => e.name === 'orders->payments')!.proxies.map((p) => p.name)).toEqual(['orders->payments', 'orders->payments#1']);
  });

  it('routes traffic through the proxies: latency on gateway->users slows every login by at least that much', async () => {
    // The toxic adds 800 ms to each gateway->users round trip whatever the machine's load: a lower bound.
    // "Removed" is judged against logins measured the same way just before, not a wall-clock bound.
    const before = [];
    for (let i = 0; i < 3; i++) before.push(await login());
    expect(before.every((r) => r.status === 200)).toBe(true);
    const proxy = await new Toxiproxy(proxyServer.url).get('gateway->users');
    const toxic = await proxy.addToxic({ name: 'e2e_latency', type: 'latency', stream: 'downstream', toxicity: 1, attributes: { latency: 800, jitter: 0 } });
    try {
      for (let i = 0; i < 3; i++) {
        const r = await login();
        expect(r.status).toBe(200);
        // less 10 %: the toxic's timer counts from the event loop's cached clock, a few ms stale when busy
        expect(r.ms).toBeGreaterThanOrEqual(800 * 0.9);
      }
    } finally {
      await toxic.remove();
    }
    const after = [];
    for (let i = 0; i < 3; i++) after.push(await login());
    expect(after.every((r) => r.status === 200)).toBe(true);
    // the fastest login is back near the fastest one before, far under the 800 ms the toxic added
    expect(Math.min(...after.map((r) => r.ms))).toBeLessThan(Math.min(...before.map((r) => r.ms)) + 800 / 2);
  });

  it('checkouts keep succeeding after the registry TTL when one of two payments instances is killed', async () => {
    expect(await checkout()).toBe(201);
    const kill = await json(`${sup.url}/instances/payments-1/kill`, { method: 'POST', body: JSON.stringify({ hold: 60_000 }) });
    expect(kill.status).toBe(200);
    // TTL 1 s; callers cache the healthy list for up to TTL/4
    await new Promise((r) => setTimeout(r, 2000));
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) statuses.push(await checkout());
    expect(statuses.filter((s) => s === 201)).toHaveLength(20);
    expect(sup.instance('payments-1').state).toBe('stopped');
    await json(`${sup.url}/instances/payments-1/start`, { method: 'POST' });
    await waitFor('payments-1 back', () => sup.instance('payments-1').state === 'running', 30_000);
  });

  it('shop status shows what the running supervisor reports', async () => {
    const text = await shopStatus(sup.url);
    expect(text).toMatch(/^INSTANCE\s+STATE\s+PID/);
    for (const i of sup.instances()) expect(text).toMatch(new RegExp(`${i.id}\\s+running\\s+${i.pid}`));
    expect(text).toContain('orders->payments#1');
    await expect(shopStatus('http://127.0.0.1:1')).rejects.toThrow(/no shop supervisor answers at http:\/\/127.0.0.1:1/);
  });

  it('refuses bad flags with the field named, before starting anything', async () => {
    const err = await shopUp({ instances: 'payments=twelve', portBase: '99' } as never).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).issues[0].path).toBe('portBase');
    const err2 = await shopUp({ instances: 'payments=twelve' } as never).catch((e: unknown) => e);
    expect((err2 as AppError).code).toBe('VALIDATION');
    expect((err2 as AppError).issues[0]).toMatchObject({ path: 'instances.payments' });
    const err3 = await shopUp({ toxiproxyUrl: 'http://127.0.0.1:1' } as never).catch((e: unknown) => e);
    expect((err3 as AppError).code).toBe('UNAVAILABLE');
    expect((err3 as AppError).message).toContain('no Toxiproxy server answers at http://127.0.0.1:1');
  });

  it('on stop removes the proxies it created and stops every instance', async () => {
    const ports = sup.instances().map((i) => i.port);
    await stop();
    expect(Object.keys(await new Toxiproxy(proxyServer.url).getAll())).toEqual([]);
    for (const p of ports) {
      const r = await fetch(`http://127.0.0.1:${p}/health`, { signal: AbortSignal.timeout(500) }).catch(() => null);
      expect(r).toBeNull();
    }
  });
});
