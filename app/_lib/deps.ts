/**
 * Process-wide handles the console's server code shares. Created lazily so
 * importing a route module costs nothing until it is called; the db client
 * already keeps its pool on globalThis (hot reload safe).
 */
import { loadConfig, type TConfig } from '../../core/config.js';
import { getDb, type TDb } from '../../db/client.js';

export function config(): TConfig {
  return loadConfig();
}

export function db(): TDb {
  return getDb(loadConfig().DATABASE_URL);
}
