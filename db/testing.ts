/**
 * Test helper: a fresh, migrated platform database per test file.
 * `const t = await createTestDatabase(); ... await t.drop();`
 */
import { randomBytes } from 'node:crypto';
import { migrateDatabase, dropDatabase } from './migrate.js';
import { getDb, closeDb, type TDb } from './client.js';

export async function createTestDatabase(): Promise<{ url: string; db: TDb; drop: () => Promise<void> }> {
  const base = process.env.TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const u = new URL(base);
  u.pathname = `/fl_test_${randomBytes(5).toString('hex')}`;
  const url = u.toString();
  await migrateDatabase(url);
  const db = getDb(url);
  return {
    url,
    db,
    drop: async () => {
      await closeDb(url);
      await dropDatabase(url);
    },
  };
}
