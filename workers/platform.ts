/**
 * The platform's process-wide handles: database, Redis (commands and
 * pub/sub), the BullMQ runs queue, the log store and the URLs of the shop,
 * proxy and supervisor. Created once per process and key (kept on
 * globalThis so Next.js hot reload does not leak connections); tests pass
 * their own database URL and a random prefix.
 */
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { loadConfig, type TConfig } from '../core/config.js';
import { getDb, type TDb } from '../db/client.js';
import { createLogStore, type LogStore } from './logstore/index.js';

export interface PlatformOptions {
  /** @defaultValue DATABASE_URL */
  databaseUrl?: string;
  /** @defaultValue REDIS_URL */
  redisUrl?: string;
  /**
   * Prefix of BullMQ keys, pub/sub channels (`<prefix>:run:<id>`) and locks; tests use a random one.
   * @defaultValue FAULTLINE_PREFIX, else 'faultline'
   */
  prefix?: string;
  /** @defaultValue TOXIPROXY_URL */
  toxiproxyUrl?: string;
  /** @defaultValue SUPERVISOR_URL */
  supervisorUrl?: string;
  /** @defaultValue SHOP_GATEWAY_URL */
  gatewayUrl?: string;
  /** @defaultValue SHOP_DATABASE_URL */
  shopDatabaseUrl?: string;
  /** @defaultValue ELASTICSEARCH_URL (unset: Postgres log store) */
  elasticsearchUrl?: string;
  /** @defaultValue REPORT_DIR */
  reportDir?: string;
}

export interface TPlatform {
  cfg: TConfig;
  db: TDb;
  databaseUrl: string;
  redisUrl: string;
  /** Commands (locks, publish). */
  redis: Redis;
  prefix: string;
  queue: Queue;
  /** Segment jobs of runs whose load is split over workers (`load.segments`). */
  loadQueue: Queue;
  logStore: LogStore;
  toxiproxyUrl: string;
  supervisorUrl: string;
  gatewayUrl: string;
  shopDatabaseUrl: string;
  reportDir: string;
  /**
   * A new connection for BullMQ workers / subscribers (they block or enter subscriber mode).
   * `subscriber`: no ready check (`INFO` is refused once the connection subscribed).
   */
  newRedis(opts?: { subscriber?: boolean }): Redis;
  close(): Promise<void>;
}

export const RUNS_QUEUE = 'runs';
/** Queue of load segments (workers/load): any worker on the same Redis and prefix takes them. */
export const LOAD_QUEUE = 'load';

const g = globalThis as unknown as { __faultlinePlatforms?: Map<string, TPlatform> };

/**
 * The environment target files are read with on platform `p`: the process's, with the platform's
 * own addresses of the bundled shop in the variables targets/shop.yaml names — a stack started on
 * other ports (a CLI run, a test) reads the shop's file with its own.
 */
export function targetEnv(p: Pick<TPlatform, 'toxiproxyUrl' | 'supervisorUrl' | 'gatewayUrl' | 'shopDatabaseUrl'>): Record<string, string | undefined> {
  return {
    ...process.env,
    TOXIPROXY_URL: p.toxiproxyUrl,
    SUPERVISOR_URL: p.supervisorUrl,
    SHOP_GATEWAY_URL: p.gatewayUrl,
    SHOP_DATABASE_URL: p.shopDatabaseUrl,
  };
}

export function getPlatform(opts: PlatformOptions = {}): TPlatform {
  const cfg = loadConfig();
  const resolved = {
    databaseUrl: opts.databaseUrl ?? cfg.DATABASE_URL,
    redisUrl: opts.redisUrl ?? cfg.REDIS_URL,
    prefix: opts.prefix ?? (process.env.FAULTLINE_PREFIX || 'faultline'),
    toxiproxyUrl: opts.toxiproxyUrl ?? cfg.TOXIPROXY_URL,
    supervisorUrl: opts.supervisorUrl ?? cfg.SUPERVISOR_URL,
    gatewayUrl: opts.gatewayUrl ?? cfg.SHOP_GATEWAY_URL,
    shopDatabaseUrl: opts.shopDatabaseUrl ?? cfg.SHOP_DATABASE_URL,
    elasticsearchUrl: opts.elasticsearchUrl ?? cfg.ELASTICSEARCH_URL,
    reportDir: opts.reportDir ?? cfg.REPORT_DIR,
  };
  const key = JSON.stringify(resolved);
  g.__faultlinePlatforms ??= new Map();
  const existing = g.__faultlinePlatforms.get(key);
  if (existing) return existing;
  const newRedis = (o: { subscriber?: boolean } = {}) => {
    const r = new Redis(resolved.redisUrl, { maxRetriesPerRequest: null, ...(o.subscriber ? { enableReadyCheck: false } : {}) });
    r.on('error', () => {
      /* reconnects by itself; callers see command errors */
    });
    return r;
  };
  const redis = newRedis();
  const db = getDb(resolved.databaseUrl);
  const queue = new Queue(RUNS_QUEUE, { connection: redis, prefix: resolved.prefix });
  const loadQueue = new Queue(LOAD_QUEUE, { connection: redis, prefix: resolved.prefix });
  const logStore = createLogStore({ db, elasticsearchUrl: resolved.elasticsearchUrl });
  const p: TPlatform = {
    cfg,
    db,
    databaseUrl: resolved.databaseUrl,
    redisUrl: resolved.redisUrl,
    redis,
    prefix: resolved.prefix,
    queue,
    loadQueue,
    logStore,
    toxiproxyUrl: resolved.toxiproxyUrl,
    supervisorUrl: resolved.supervisorUrl,
    gatewayUrl: resolved.gatewayUrl,
    shopDatabaseUrl: resolved.shopDatabaseUrl,
    reportDir: resolved.reportDir,
    newRedis,
    async close() {
      g.__faultlinePlatforms?.delete(key);
      await queue.close().catch(() => undefined);
      await loadQueue.close().catch(() => undefined);
      await logStore.close().catch(() => undefined);
      redis.disconnect();
    },
  };
  g.__faultlinePlatforms.set(key, p);
  return p;
}
