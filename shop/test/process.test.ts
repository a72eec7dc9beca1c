/**
 * The process entries the supervisor spawns: configured only by env, JSON
 * logs on stdout, registered in the registry, SIGTERM = graceful shutdown
 * (deregistered), bad configuration = exit 2 with the variable named.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { migrateShop, dropShopDatabase } from '../db/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const tag = randomBytes(4).toString('hex');
const dbUrl = `postgres://postgres@127.0.0.1:5432/shop_proc_${tag}`;
const prefix = `shopproc_${tag}`;
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

function spawnService(
  service: string,
  env: Record<string, string>,
): { child: ChildProcess; out: () => string; err: () => string; exit: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'shop', 'services', service, 'main.ts')], {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? '',
      SHOP_DATABASE_URL: dbUrl,
      REDIS_URL: redisUrl,
      SHOP_REGISTRY_PREFIX: `${prefix}:registry`,
      SHOP_REDIS_PREFIX: prefix,
      PORT: '0',
      ...env,
    } as unknown as NodeJS.ProcessEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const exit = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, out: () => out, err: () => err, exit };
}

async function waitForLine(read: () => string, msg: string, ms = 20_000): Promise<Record<string, any>> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    for (const l of read().split('\n')) {
      if (!l.startsWith('{')) continue;
      const j = JSON.parse(l);
      if (j.msg === msg) return j;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no "${msg}" line within ${ms} ms; got:\n${read()}`);
}

beforeAll(async () => {
  await migrateShop(dbUrl);
});
afterAll(async () => {
  await dropShopDatabase(dbUrl);
  const r = new Redis(redisUrl);
  const keys = await r.keys(`${prefix}:*`);
  if (keys.length) await r.del(...keys);
  r.disconnect();
});

describe('service process entry', () => {
  it('starts from env, registers, serves /health, and deregisters on SIGTERM', async () => {
    const p = spawnService('payments', { SHOP_INSTANCE_INDEX: '1', SHOP_INSTANCE_ID: 'payments-1', SHOP_REGISTRY_TTL_MS: '2000' });
    try {
      const started = await waitForLine(p.out, 'service started');
      expect(started).toMatchObject({ service: 'payments', instance: 'payments-1', level: 'info' });
      const health = await fetch(`${started.url}/health`);
      expect(health.status).toBe(200);
      expect(await health.json()).toMatchObject({ ok: true, instance: 'payments-1' });
      const redis = new Redis(redisUrl);
      try {
        expect(await redis.zscore(`${prefix}:registry:payments`, 'payments-1')).not.toBeNull();
        expect(JSON.parse((await redis.hget(`${prefix}:registry:payments:info`, 'payments-1'))!)).toEqual({ id: 'payments-1', index: 1, url: started.url });
        p.child.kill('SIGTERM');
        expect(await p.exit).toBe(0);
        expect(await redis.zscore(`${prefix}:registry:payments`, 'payments-1')).toBeNull();
      } finally {
        redis.disconnect();
      }
      expect(p.out()).toContain('"msg":"service stopped"');
    } finally {
      p.child.kill('SIGKILL');
    }
  });

  it('refuses bad configuration with exit 2 and the variable named', async () => {
    const a = spawnService('orders', { SHOP_BUGS: 'oversell,nope' });
    expect(await a.exit).toBe(2);
    expect(a.err()).toContain('SHOP_BUGS: unknown bug switch "nope"');
    const b = spawnService('catalog', { SHOP_EDGES: '{"catalog->postgres": "nowhere"}' });
    expect(await b.exit).toBe(2);
    expect(b.err()).toContain('SHOP_EDGES.catalog->postgres');
    const c = spawnService('users', { PORT: 'eighty' });
    expect(await c.exit).toBe(2);
    expect(c.err()).toContain('PORT must be an integer');
  });
});
