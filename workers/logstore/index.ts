/**
 * Log store surface: `createLogStore()` picks Elasticsearch when
 * ELASTICSEARCH_URL is set, the Postgres table otherwise (same code paths
 * above it, switched only by configuration).
 */
import type { TDb } from '../../db/client.js';
import { ElasticsearchLogStore, type ElasticsearchLogStoreOptions } from './elasticsearch.js';
import { PostgresLogStore } from './postgres.js';
import type { LogStore } from './types.js';

export * from './types.js';
export { PostgresLogStore } from './postgres.js';
export { ElasticsearchLogStore, dailyIndex, indexTemplate, searchBody, toDoc, type ElasticsearchLogStoreOptions } from './elasticsearch.js';

export interface CreateLogStoreOptions {
  /** Platform database (used by the Postgres adapter). */
  db: TDb;
  /**
   * Elasticsearch URL; when unset the Postgres adapter is used.
   * @defaultValue undefined (Postgres)
   */
  elasticsearchUrl?: string;
  /** Passed to the Elasticsearch adapter. */
  elasticsearch?: Omit<ElasticsearchLogStoreOptions, 'node'>;
}

export function createLogStore(opts: CreateLogStoreOptions): LogStore {
  if (opts.elasticsearchUrl || opts.elasticsearch?.client) return new ElasticsearchLogStore({ node: opts.elasticsearchUrl, ...opts.elasticsearch });
  return new PostgresLogStore(opts.db);
}
