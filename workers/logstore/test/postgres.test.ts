import { createTestDatabase } from '../../../db/testing.js';
import { PostgresLogStore } from '../postgres.js';
import { logStoreContract } from './contract.js';

logStoreContract('postgres', async () => {
  const t = await createTestDatabase();
  return { store: new PostgresLogStore(t.db), teardown: t.drop };
});
