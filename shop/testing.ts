/**
 * Test fixture: the whole shop in-process, on random ports, with a fresh
 * migrated + seeded database and its own Redis prefix.
 *
 *   const shop = await startTestShop({ instances: { payments: 2 }, bugs: ['oversell'] });
 *   ... fetch(`${shop.gatewayUrl}/products`) ...
 *   await shop.stop();
 */
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { Redis } from 'ioredis';
import type { DestinationStream } from 'pino';
import { SHOP_SERVICES, instanceId, type TShopBug, type TShopService } from './config.js';
import { migrateShop, seedShop, dropShopDatabase, SEED_PRODUCTS, SEED_USERS } from './db/index.js';
import { startService, type TRunningService, type TServiceSettings } from './lib/runtime.js';
import type { TEdges } from './lib/edges.js';

export interface TStartTestShopOptions {
  /** Instances per service. @defaultValue 1 of each */
  instances?: Partial<Record<TShopService, number>>;
  /** Bug switches on in every instance. @defaultValue none */
  bugs?: TShopBug[];
  /** Service tunables (timeouts, breaker, saga deadline...). @defaultValue DEFAULT_SETTINGS with dbPoolMax 3 */
  settings?: Partial<TServiceSettings>;
  /** Registry TTL; shorter than in production so instance loss shows quickly. @defaultValue 2000 */
  registryTtlMs?: number;
  /** Seed products and users (see shop/db/index.ts SEED_*). @defaultValue true */
  seed?: boolean;
  /** Log level of every instance. @defaultValue process.env.SHOP_TEST_LOG_LEVEL ?? 'silent' */
  logLevel?: string;
  /** Where log lines go (all instances). @defaultValue stdout */
  logDestination?: DestinationStream;
  /** Server to create the database on. @defaultValue TEST_PG_URL or postgres://postgres@127.0.0.1:5432/postgres */
  pgUrl?: string;
  /** @defaultValue REDIS_URL or redis://127.0.0.1:6379 */
  redisUrl?: string;
  /** SHOP_EDGES for every instance (Postgres/Redis edges; service edges need instance addresses, see startInstance). @defaultValue {} */
  edges?: TEdges;
}

export interface TTestShopInstance {
  id: string;
  service: TShopService;
  index: number;
  url: string;
  running: boolean;
}

export interface TTestShop {
  gatewayUrl: string;
  dbUrl: string;
  redisUrl: string;
  /** Prefix of this shop's Redis keys (registry `<prefix>:registry:*`, BullMQ `<prefix>`, cache). */
  redisPrefix: string;
  instances: TTestShopInstance[];
  /** Stop one instance; default is a crash (no deregistration: callers notice within the TTL). */
  stopInstance(id: string, opts?: { graceful?: boolean }): Promise<void>;
  /** Start a stopped instance again (same id and index, a new port), optionally with other SHOP_EDGES. */
  startInstance(id: string, opts?: { edges?: TEdges }): Promise<void>;
  /** Stop everything, drop the database and delete the Redis keys. */
  stop(): Promise<void>;
}

export async function startTestShop(opts: TStartTestShopOptions = {}): Promise<TTestShop> {
  const tag = randomBytes(5).toString('hex');
  const pg = new URL(opts.pgUrl ?? process.env.TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
  pg.pathname = `/shop_test_${tag}`;
  const dbUrl = pg.toString();
  const redisUrl = opts.redisUrl ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const redisPrefix = `shoptest_${tag}`;
  if (opts.seed === false) await migrateShop(dbUrl);
  else await cloneSeededDatabase(dbUrl);

  const running = new Map<string, TRunningService>();
  const instances: TTestShopInstance[] = [];
  for (const service of SHOP_SERVICES) {
    const n = opts.instances?.[service] ?? 1;
    for (let i = 0; i < n; i++) instances.push({ id: instanceId(service, i), service, index: i, url: '', running: false });
  }

  const start = async (inst: TTestShopInstance, edges: TEdges | undefined = opts.edges) => {
    const r = await startService(inst.service, {
      edges,
      index: inst.index,
      instanceId: inst.id,
      port: 0,
      databaseUrl: dbUrl,
      redisUrl,
      redisPrefix,
      registryTtlMs: opts.registryTtlMs ?? 2000,
      bugs: opts.bugs,
      logLevel: opts.logLevel ?? process.env.SHOP_TEST_LOG_LEVEL ?? 'silent',
      logDestination: opts.logDestination,
      settings: { dbPoolMax: 3, ...opts.settings },
    });
    running.set(inst.id, r);
    inst.url = r.url;
    inst.running = true;
  };

  const stopAll = async () => {
    await Promise.all([...running.values()].map((r) => r.close({ graceful: true }).catch(() => {})));
    running.clear();
  };

  try {
    await Promise.all(instances.map((i) => start(i)));
  } catch (e) {
    await stopAll();
    await dropShopDatabase(dbUrl).catch(() => {});
    throw e;
  }

  const find = (id: string) => {
    const inst = instances.find((i) => i.id === id);
    if (!inst) throw new Error(`no instance ${id} (have: ${instances.map((i) => i.id).join(', ')})`);
    return inst;
  };

  return {
    gatewayUrl: instances.find((i) => i.service === 'gateway')!.url,
    dbUrl,
    redisUrl,
    redisPrefix,
    instances,
    async stopInstance(id, o) {
      const inst = find(id);
      const r = running.get(id);
      if (!r) return;
      running.delete(id);
      inst.running = false;
      await r.close({ graceful: o?.graceful ?? false });
    },
    async startInstance(id, o) {
      const inst = find(id);
      if (running.has(id)) return;
      await start(inst, o?.edges ?? opts.edges);
    },
    async stop() {
      await stopAll();
      await dropShopDatabase(dbUrl).catch(() => {});
      const redis = new Redis(redisUrl);
      try {
        let cursor = '0';
        let rounds = 0;
        do {
          const [next, keys] = await redis.scan(cursor, 'MATCH', `${redisPrefix}:*`, 'COUNT', 1000);
          if (keys.length) await redis.del(...keys);
          cursor = next;
        } while (cursor !== '0' && ++rounds < 10_000);
      } finally {
        redis.disconnect();
      }
    },
  };
}

/**
 * Create `url` as a copy of a migrated and seeded template database.
 * CREATE DATABASE ... TEMPLATE copies files, several times faster than
 * migrating and seeding (scrypt hashes) every time. The template's name
 * carries a hash of the migrations and seed data, so a schema change builds
 * a new one; building is serialised across processes by an advisory lock.
 */
async function cloneSeededDatabase(url: string): Promise<void> {
  const migrations = path.join(path.dirname(fileURLToPath(import.meta.url)), 'migrations');
  const h = createHash('sha1');
  for (const f of readdirSync(migrations)
    .filter((f) => f.endsWith('.sql'))
    .sort())
    h.update(f).update(readFileSync(path.join(migrations, f)));
  h.update(JSON.stringify([SEED_PRODUCTS, SEED_USERS]));
  const template = `shop_tpl_${h.digest('hex').slice(0, 12)}`;
  const target = decodeURIComponent(new URL(url).pathname.slice(1));
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const c = new pg.Client({ connectionString: admin.toString() });
  await c.connect();
  try {
    const exists = async () => ((await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [template])).rowCount ?? 0) > 0;
    if (!(await exists())) {
      await c.query('SELECT pg_advisory_lock(727275)');
      try {
        if (!(await exists())) {
          // Build under another name and rename, so nobody clones a half-built template.
          const build = `${template}_b${randomBytes(3).toString('hex')}`;
          const bu = new URL(url);
          bu.pathname = `/${build}`;
          await migrateShop(bu.toString());
          await seedShop(bu.toString());
          await c.query(`ALTER DATABASE "${build}" RENAME TO "${template}"`);
          // Templates of older schema versions are dead weight now (best effort: one may still be cloned from).
          const old = await c.query<{ datname: string }>("SELECT datname FROM pg_database WHERE datname LIKE 'shop\\_tpl\\_%' AND datname <> $1", [template]);
          for (const { datname } of old.rows) {
            if (/^shop_tpl_[0-9a-f]{12}$/.test(datname)) await c.query(`DROP DATABASE IF EXISTS "${datname}"`).catch(() => {});
          }
        }
      } finally {
        await c.query('SELECT pg_advisory_unlock(727275)');
      }
    }
    try {
      await c.query(`CREATE DATABASE "${target}" TEMPLATE "${template}"`);
    } catch (e) {
      // The template is busy (someone connected to it): fall back to the slow path.
      if ((e as { code?: string }).code !== '55006') throw e;
      await migrateShop(url);
      await seedShop(url);
    }
  } finally {
    await c.end();
  }
}
