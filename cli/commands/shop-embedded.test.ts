/**
 * `faultline shop up` with no Toxiproxy server at TOXIPROXY_URL starts the
 * embedded fault proxy there, routes the shop through it, and stops it with
 * the shop. Only payments runs (its Postgres edge is enough to show the wiring).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { Redis } from 'ioredis';
import { Toxiproxy } from 'toxiproxy-node-client';
import { afterAll, describe, expect, it } from 'vitest';
import { dropShopDatabase } from '../../shop/db/index.js';
import { freePort, freePortBase, statusOf } from '../../shop/supervisor/test/helpers.js';
import { shopUp } from './shop.js';

const tag = randomBytes(4).toString('hex');
const databaseUrl = `postgres://postgres@127.0.0.1:5432/fl_test_${tag}`;
const prefix = `fltest${tag}`;
const logDir = mkdtempSync(path.join(os.tmpdir(), 'fl-embedded-'));
let stop: (() => Promise<void>) | undefined;

afterAll(async () => {
  await stop?.();
  await dropShopDatabase(databaseUrl).catch(() => undefined);
  const redis = new Redis('redis://127.0.0.1:6379');
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
  rmSync(logDir, { recursive: true, force: true });
});

describe('faultline shop up without a Toxiproxy server', () => {
  it('starts the embedded fault proxy at TOXIPROXY_URL, routes the edges through it, and stops it on exit', async () => {
    const proxyPort = await freePort();
    const toxiproxyUrl = `http://127.0.0.1:${proxyPort}`;
    // read by loadConfig() on its first call in this process (below)
    Object.assign(process.env, {
      TOXIPROXY_URL: toxiproxyUrl,
      SHOP_DATABASE_URL: databaseUrl,
      SHOP_REGISTRY_PREFIX: `${prefix}:registry`,
      SHOP_REDIS_PREFIX: prefix,
    });
    expect(await statusOf(`${toxiproxyUrl}/version`)).toBe(0);
    let printed = '';
    const out = new PassThrough();
    out.on('data', (c: Buffer) => (printed += c.toString()));
    const up = await shopUp(
      { instances: 'gateway=0,users=0,catalog=0,orders=0,payments=1', portBase: String(await freePortBase()), adminPort: '0', logDir } as never,
      out,
    );
    stop = up.stop;
    expect(up.supervisor.toxiproxyUrl).toBe(toxiproxyUrl);
    expect(printed).toContain(`proxy       ${toxiproxyUrl} (embedded)`);
    const proxies = await new Toxiproxy(toxiproxyUrl).getAll();
    // payments' only edge is its database; service edges into payments have no caller running but still get proxies
    expect(proxies['payments->postgres']).toBeDefined();
    expect(proxies['payments->postgres'].upstream).toBe('127.0.0.1:5432');
    expect(Object.keys(proxies)).toContain('orders->payments');
    // the instance is healthy through the proxied database edge
    const inst = up.supervisor.instance('payments-0');
    expect(inst.state).toBe('running');
    expect(await statusOf(`http://127.0.0.1:${inst.port}/health`, 3000)).toBe(200);
    await up.stop();
    stop = undefined;
    expect(await statusOf(`${toxiproxyUrl}/version`)).toBe(0);
  });
});
