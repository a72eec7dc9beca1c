/**
 * Platform database connection: one pg Pool and one drizzle instance per
 * process and URL (kept on globalThis so Next.js hot reload does not leak pools).
 */
import pg from 'pg';
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import * as schema from './schema/index.js';

export type TDb = NodePgDatabase<typeof schema> & { $client: pg.Pool };

const g = globalThis as unknown as { __faultlineDb?: Map<string, TDb> };

export function getDb(url: string = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/faultline'): TDb {
  g.__faultlineDb ??= new Map();
  let db = g.__faultlineDb.get(url);
  if (!db) {
    const pool = new pg.Pool({ connectionString: url, max: 10 });
    pool.on('error', () => {
      /* idle client lost (server restart); the pool replaces it */
    });
    db = drizzle(pool, { schema }) as TDb;
    g.__faultlineDb.set(url, db);
  }
  return db;
}

export async function closeDb(url?: string): Promise<void> {
  const m = g.__faultlineDb;
  if (!m) return;
  for (const [k, db] of [...m]) {
    if (url && k !== url) continue;
    m.delete(k);
    await db.$client.end();
  }
}
