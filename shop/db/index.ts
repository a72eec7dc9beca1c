/**
 * The shop database: migrations, seed data and a pool factory.
 * Each service owns one Postgres schema (users, catalog, orders, payments)
 * and reads no other service's tables.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes, scrypt as scryptCb } from 'node:crypto';
import { promisify } from 'node:util';
import pg from 'pg';
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import { Snowflake } from '@sapphire/snowflake';
import * as schema from './schema/index.js';

export * as shopSchema from './schema/index.js';
export type TShopDb = NodePgDatabase<typeof schema> & { $client: pg.Pool };

const here = path.dirname(fileURLToPath(import.meta.url));
const scrypt = promisify(scryptCb) as (pw: string, salt: Buffer, len: number, opts: { N: number; r: number; p: number }) => Promise<Buffer>;

/** Ids start counting from 2025-01-01 so they stay short for decades. */
export const SHOP_EPOCH = new Date('2025-01-01T00:00:00Z');

export function createShopDb(url: string, opts: { max?: number } = {}): TShopDb {
  // Idle connections go back quickly: many instances share one server's connection limit.
  const pool = new pg.Pool({ connectionString: url, max: opts.max ?? 5, connectionTimeoutMillis: 5000, idleTimeoutMillis: 5000 });
  // A connection lost (server restart, proxy fault) must not crash the process: idle clients
  // report on the pool, checked-out ones on themselves (their query rejects; the pool drops them).
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  return drizzle(pool, { schema }) as TShopDb;
}

function dbName(url: string): string {
  const name = decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
  if (!/^[A-Za-z0-9_]+$/.test(name)) throw new Error(`shop database name must be [A-Za-z0-9_]+: "${name}"`);
  return name;
}

async function withAdmin<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const c = new pg.Client({ connectionString: admin.toString() });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** Create the shop database when missing and apply shop/migrations. */
export async function migrateShop(url: string = process.env.SHOP_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/faultline_shop'): Promise<void> {
  const name = dbName(url);
  await withAdmin(url, async (c) => {
    const r = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (r.rowCount === 0) {
      try {
        await c.query(`CREATE DATABASE "${name}"`);
      } catch (e) {
        // Two processes racing to create it: the loser sees 42P04 / 23505.
        const code = (e as { code?: string }).code;
        if (code !== '42P04' && code !== '23505') throw e;
      }
    }
  });
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  try {
    // Serialise concurrent migrators (several supervisors or test files on one database).
    const client = await pool.connect();
    try {
      await client.query('SELECT pg_advisory_lock(727274)');
      await migrate(drizzle(client), { migrationsFolder: path.join(here, '..', 'migrations'), migrationsSchema: 'shop_migrations' });
    } finally {
      await client.query('SELECT pg_advisory_unlock(727274)').catch(() => {});
      client.release();
    }
  } finally {
    await pool.end();
  }
}

export async function dropShopDatabase(url: string): Promise<void> {
  const name = dbName(url);
  await withAdmin(url, (c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  // N=2^14 keeps a login around 20-40 ms: real cost, but load tests can still log in.
  const N = 16384,
    r = 8,
    p = 1;
  const hash = await scrypt(password, salt, 32, { N, r, p });
  return `scrypt$${N}$${r}$${p}$${salt.toString('hex')}$${hash.toString('hex')}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [alg, n, r, p, saltHex, hashHex] = stored.split('$');
  if (alg !== 'scrypt' || !saltHex || !hashHex) return false;
  const { timingSafeEqual } = await import('node:crypto');
  const expected = Buffer.from(hashHex, 'hex');
  const got = await scrypt(password, Buffer.from(saltHex, 'hex'), expected.length, { N: Number(n), r: Number(r), p: Number(p) });
  return got.length === expected.length && timingSafeEqual(got, expected);
}

/**
 * Seed products (with stock) and users. Product SKUs and initial stock are
 * fixed so runs are comparable.
 *
 * Seed users (password in brackets), all safe to publish:
 *   alice@shop.test [alice-password], bob@shop.test [bob-password],
 *   carol@shop.test [carol-password], loadtest@shop.test [loadtest-password]
 *
 * SKU `BIG-TICKET` costs 300 000 cents: two of them exceed the payments
 * limit (500 000 cents) and are declined — the documented way to drive a
 * payment failure without a fault.
 */
export const SEED_USERS = [
  { email: 'alice@shop.test', password: 'alice-password', name: 'Alice' },
  { email: 'bob@shop.test', password: 'bob-password', name: 'Bob' },
  { email: 'carol@shop.test', password: 'carol-password', name: 'Carol' },
  { email: 'loadtest@shop.test', password: 'loadtest-password', name: 'Load Test' },
] as const;

export const SEED_PRODUCTS: readonly { sku: string; name: string; priceCents: number; stock: number }[] = [
  { sku: 'MUG-001', name: 'Stoneware mug', priceCents: 1200, stock: 1000 },
  { sku: 'MUG-002', name: 'Travel mug', priceCents: 2400, stock: 1000 },
  { sku: 'TEE-001', name: 'Cotton t-shirt', priceCents: 1900, stock: 1000 },
  { sku: 'TEE-002', name: 'Long-sleeve t-shirt', priceCents: 2900, stock: 1000 },
  { sku: 'HAT-001', name: 'Wool beanie', priceCents: 1500, stock: 1000 },
  { sku: 'BAG-001', name: 'Canvas tote', priceCents: 1800, stock: 1000 },
  { sku: 'BAG-002', name: 'Backpack', priceCents: 6900, stock: 500 },
  { sku: 'BOOK-001', name: 'Site Reliability Engineering', priceCents: 4500, stock: 500 },
  { sku: 'BOOK-002', name: 'Release It!', priceCents: 3900, stock: 500 },
  { sku: 'BOOK-003', name: 'Designing Data-Intensive Applications', priceCents: 5200, stock: 500 },
  { sku: 'STICK-001', name: 'Sticker pack', priceCents: 500, stock: 5000 },
  { sku: 'PEN-001', name: 'Fountain pen', priceCents: 3500, stock: 300 },
  { sku: 'NOTE-001', name: 'Dot-grid notebook', priceCents: 1400, stock: 2000 },
  { sku: 'SOCK-001', name: 'Merino socks', priceCents: 1600, stock: 1000 },
  { sku: 'CAP-001', name: 'Baseball cap', priceCents: 2200, stock: 800 },
  { sku: 'KEY-001', name: 'Mechanical keyboard', priceCents: 12900, stock: 200 },
  { sku: 'LAMP-001', name: 'Desk lamp', priceCents: 4900, stock: 300 },
  { sku: 'PLANT-001', name: 'Succulent', priceCents: 900, stock: 400 },
  { sku: 'LIMITED-001', name: 'Limited edition print (10 made)', priceCents: 9900, stock: 10 },
  { sku: 'BIG-TICKET', name: 'Espresso machine (declined above 500 000 cents)', priceCents: 300_000, stock: 100 },
];

/** Idempotent: inserts what is missing, never resets stock of existing products. */
export async function seedShop(
  url: string = process.env.SHOP_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/faultline_shop',
): Promise<{ products: number; users: number }> {
  const db = createShopDb(url, { max: 2 });
  // Worker 31 / process 31 is reserved for the seeder so its ids never collide with a service instance's.
  const ids = new Snowflake(SHOP_EPOCH);
  const nextId = () => ids.generate({ workerId: 31n, processId: 31n }).toString();
  try {
    let products = 0;
    for (const p of SEED_PRODUCTS) {
      await db.transaction(async (tx) => {
        const ins = await tx
          .insert(schema.products)
          .values({ id: nextId(), sku: p.sku, name: p.name, priceCents: p.priceCents })
          .onConflictDoNothing({ target: schema.products.sku })
          .returning({ id: schema.products.id });
        if (ins[0]) {
          await tx.insert(schema.stock).values({ productId: ins[0].id, initial: p.stock, available: p.stock });
          products++;
        }
      });
    }
    let users = 0;
    for (const u of SEED_USERS) {
      const ins = await db
        .insert(schema.users)
        .values({ id: nextId(), email: u.email, passwordHash: await hashPassword(u.password), name: u.name })
        .onConflictDoNothing({ target: schema.users.email })
        .returning({ id: schema.users.id });
      if (ins[0]) users++;
    }
    return { products, users };
  } finally {
    await db.$client.end();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const url = process.env.SHOP_DATABASE_URL;
  migrateShop(url)
    .then(() => seedShop(url))
    .then((r) => console.log(`shop database migrated; seeded ${r.products} products, ${r.users} users`))
    .catch((e) => {
      console.error(`shop migration failed: ${e instanceof Error ? e.message : String(e)}`);
      process.exit(2);
    });
}
