/**
 * One service instance: wiring of logger, metrics, registry, data-plane
 * connections (resolved through SHOP_EDGES), edge clients and the fastify
 * app; the service module adds its routes and background loops.
 */
import type { AddressInfo } from 'node:net';
import { Agent } from 'undici';
import { Redis } from 'ioredis';
import type { DestinationStream } from 'pino';
import { SHOP_DEFAULTS, SHOP_SERVICES, instanceId, parseBugs, type TShopBug, type TShopService } from '../config.js';
import { createShopDb, type TShopDb } from '../db/index.js';
import { EdgeClient, type TEdgePolicyOptions } from './client.js';
import { parseEdges, resolveUrl, type TEdges } from './edges.js';
import { createIdGenerator } from './ids.js';
import { createLogger, type TRunContext } from './logger.js';
import { createMetrics } from './metrics.js';
import { ServiceRegistry } from './registry.js';
import { createApp } from './server.js';
import { DEFAULT_SETTINGS, bounded, type TServiceContext, type TServiceSettings } from './service-context.js';
import { SERVICE_MODULES } from '../services/registry.js';

// Re-exported: the runtime is where callers start services and read their settings.
export { DEFAULT_SETTINGS, bounded, type TServiceContext, type TServiceModule, type TServiceSettings } from './service-context.js';

export interface TStartServiceOptions {
  /** Instance index (worker id of its Snowflake ids). @defaultValue 0 */
  index?: number;
  /** @defaultValue `<service>-<index>` */
  instanceId?: string;
  /** @defaultValue 0 (a free port) */
  port?: number;
  /** @defaultValue '127.0.0.1' */
  host?: string;
  /** Host other instances reach this one at (registry URL), when `host` is a wildcard such as 0.0.0.0 in a container. @defaultValue host, or 127.0.0.1 for a wildcard */
  advertiseHost?: string;
  /** @defaultValue SHOP_DEFAULTS.databaseUrl */
  databaseUrl?: string;
  /** @defaultValue SHOP_DEFAULTS.redisUrl */
  redisUrl?: string;
  /** Parsed SHOP_EDGES. @defaultValue {} (every edge direct) */
  edges?: TEdges;
  /** @defaultValue none */
  bugs?: Iterable<TShopBug>;
  /** Redis prefix of the registry. @defaultValue `${redisPrefix}:registry` */
  registryPrefix?: string;
  /** @defaultValue 3000 */
  registryTtlMs?: number;
  /** Prefix of BullMQ queues and cache keys. @defaultValue 'shop' */
  redisPrefix?: string;
  /** @defaultValue 'info' */
  logLevel?: string;
  /** Where JSON log lines go. @defaultValue stdout */
  logDestination?: DestinationStream;
  /** Collect process metrics (one registry per process wants them once). @defaultValue false */
  defaultMetrics?: boolean;
  /** @defaultValue DEFAULT_SETTINGS */
  settings?: Partial<TServiceSettings>;
}

export interface TRunningService {
  url: string;
  id: string;
  service: TShopService;
  index: number;
  port: number;
  /**
   * Stop the instance. graceful (default): deregister, finish background work,
   * close. Not graceful: behave like a crash — heartbeats stop but the
   * registry entry stays until its TTL, in-memory state is dropped.
   */
  close(opts?: { graceful?: boolean }): Promise<void>;
}

export async function startService(name: TShopService, opts: TStartServiceOptions = {}): Promise<TRunningService> {
  if (!SHOP_SERVICES.includes(name)) throw new Error(`unknown shop service "${name}" (known: ${SHOP_SERVICES.join(', ')})`);
  const index = opts.index ?? 0;
  const id = opts.instanceId ?? instanceId(name, index);
  const settings: TServiceSettings = { ...DEFAULT_SETTINGS, ...opts.settings };
  const edges = opts.edges ?? {};
  const bugs = new Set(opts.bugs ?? []);
  const redisPrefix = opts.redisPrefix ?? SHOP_DEFAULTS.queuePrefix;
  const baseRedisUrl = opts.redisUrl ?? SHOP_DEFAULTS.redisUrl;
  const baseDbUrl = opts.databaseUrl ?? SHOP_DEFAULTS.databaseUrl;
  const context: TRunContext = { runId: null };
  const log = createLogger({ service: name, instance: id, level: opts.logLevel, destination: opts.logDestination, context });
  const metrics = createMetrics(name, { defaultMetrics: opts.defaultMetrics });

  // Control plane: direct, never through a fault proxy.
  const control = new Redis(baseRedisUrl, { maxRetriesPerRequest: 2, lazyConnect: false });
  control.on('error', () => {});
  const registry = new ServiceRegistry(control, opts.registryPrefix ?? `${redisPrefix}:registry`, opts.registryTtlMs ?? SHOP_DEFAULTS.registryTtlMs);

  const agent = new Agent({ keepAliveTimeout: 30_000, connections: 128, connect: { timeout: settings.clientTimeoutMs } });
  let db: TShopDb | undefined;
  let redis: Redis | undefined;
  let cache: Redis | undefined;
  const clients = new Map<string, EdgeClient>();
  let closing = false;
  const dataRedisUrl = resolveUrl(edges, `${name}->redis`, baseRedisUrl);

  let dbHealthy: (() => Promise<Record<string, unknown>>) | undefined;
  const { app, faults } = createApp({
    service: name,
    instance: id,
    log,
    metrics,
    context,
    health: async () => {
      if (closing) return { ok: false, closing: true };
      return dbHealthy ? dbHealthy() : {};
    },
  });

  const ctx: TServiceContext = {
    service: name,
    instance: id,
    index,
    bugs,
    settings,
    log,
    metrics,
    app,
    nextId: createIdGenerator(name, index),
    redisPrefix,
    redisUrl: dataRedisUrl,
    db() {
      db ??= createShopDb(resolveUrl(edges, `${name}->postgres`, baseDbUrl), { max: settings.dbPoolMax });
      // Liveness, not readiness: a database fault must not make the supervisor see a
      // crash loop, so the answer stays 200 and only reports the dependency.
      dbHealthy ??= async () => {
        try {
          await bounded(db!.$client.query('SELECT 1'), 500);
          return { db: 'ok' };
        } catch (e) {
          return { db: 'down', dbError: (e as Error).message };
        }
      };
      return db;
    },
    redis() {
      if (!redis) {
        redis = new Redis(dataRedisUrl, { maxRetriesPerRequest: null });
        redis.on('error', () => {});
      }
      return redis;
    },
    cache() {
      if (!cache) {
        cache = new Redis(dataRedisUrl, { maxRetriesPerRequest: 1, enableOfflineQueue: false, commandTimeout: 500 });
        cache.on('error', () => {});
      }
      return cache;
    },
    client(target) {
      let c = clients.get(target);
      if (!c) {
        const policy: TEdgePolicyOptions = {
          timeoutMs: settings.clientTimeoutMs,
          retries: settings.clientRetries,
          breakerThreshold: settings.breakerThreshold,
          breakerHalfOpenAfterMs: settings.breakerHalfOpenAfterMs,
          breakerDisabled: bugs.has('breaker-disabled'),
        };
        c = new EdgeClient({ service: name, target, registry, edges, agent, metrics, log }, policy);
        clients.set(target, c);
      }
      return c;
    },
    get closing() {
      return closing;
    },
  };

  const mod = await SERVICE_MODULES[name]();
  const hooks = (await mod.setup(ctx)) ?? {};
  await app.listen({ port: opts.port ?? 0, host: opts.host ?? '127.0.0.1' });
  const port = (app.server.address() as AddressInfo).port;
  const bound = opts.host ?? '127.0.0.1';
  const url = `http://${opts.advertiseHost ?? (bound === '0.0.0.0' || bound === '::' ? '127.0.0.1' : bound)}:${port}`;
  await registry.register(name, { id, index, url });
  log.info({ url, bugs: [...bugs], edges: Object.keys(edges).filter((e) => e.startsWith(`${name}->`)) }, 'service started');

  let closed: Promise<void> | undefined;
  const close = (o: { graceful?: boolean } = {}) => {
    closed ??= (async () => {
      const graceful = o.graceful ?? true;
      closing = true;
      faults.clear();
      if (graceful) await registry.deregister().catch(() => {});
      else registry.stopHeartbeat();
      if (!graceful) app.server.closeAllConnections();
      // Every step is bounded: a dependency that hangs (a proxy holding a
      // connection open) must not keep a stopping instance alive.
      await bounded(hooks.stop?.(graceful), 5000).catch((e: Error) => log.warn({ err: e.message }, 'stop hook failed'));
      await bounded(app.close(), 5000).catch(() => app.server.closeAllConnections());
      await bounded(agent.close(), 2000).catch(() => agent.destroy().catch(() => {}));
      if (db) await bounded(db.$client.end(), 3000).catch(() => {});
      if (redis) {
        if (graceful) await bounded(redis.quit(), 2000).catch(() => redis!.disconnect());
        else redis.disconnect();
      }
      cache?.disconnect();
      await bounded(control.quit(), 2000).catch(() => control.disconnect());
      log.info({ graceful }, 'service stopped');
      log.flush?.();
    })();
    return closed;
  };
  return { url, id, service: name, index, port, close };
}

/** Options of startService from the environment of a service process (see main.ts). */
export function optionsFromEnv(env: Record<string, string | undefined> = process.env): { service: TShopService; opts: TStartServiceOptions } {
  const service = env.SHOP_SERVICE as TShopService;
  if (!SHOP_SERVICES.includes(service)) throw new Error(`SHOP_SERVICE must be one of ${SHOP_SERVICES.join(', ')}, got "${env.SHOP_SERVICE ?? ''}"`);
  const int = (name: string, dflt: number | undefined, min = 0): number | undefined => {
    const raw = env[name];
    if (raw === undefined || raw === '') return dflt;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer >= ${min}, got "${raw}"`);
    return n;
  };
  const settings: Partial<TServiceSettings> = {};
  const map: [keyof TServiceSettings, string][] = [
    ['clientTimeoutMs', 'SHOP_CLIENT_TIMEOUT_MS'],
    ['clientRetries', 'SHOP_CLIENT_RETRIES'],
    ['breakerThreshold', 'SHOP_BREAKER_THRESHOLD'],
    ['breakerHalfOpenAfterMs', 'SHOP_BREAKER_HALF_OPEN_MS'],
    ['sagaDeadlineMs', 'SHOP_SAGA_DEADLINE_MS'],
    ['pollMs', 'SHOP_POLL_MS'],
    ['rateLimitRps', 'SHOP_RATE_LIMIT_RPS'],
    ['rateLimitBurst', 'SHOP_RATE_LIMIT_BURST'],
    ['paymentLimitCents', 'SHOP_PAYMENT_LIMIT_CENTS'],
    ['dbPoolMax', 'SHOP_DB_POOL_MAX'],
  ];
  for (const [k, envName] of map) {
    const v = int(envName, undefined);
    if (v !== undefined) settings[k] = v;
  }
  const index = int('SHOP_INSTANCE_INDEX', 0)!;
  return {
    service,
    opts: {
      index,
      instanceId: env.SHOP_INSTANCE_ID || undefined,
      port: int('PORT', 0),
      host: env.HOST || '127.0.0.1',
      advertiseHost: env.SHOP_ADVERTISE_HOST || undefined,
      databaseUrl: env.SHOP_DATABASE_URL || SHOP_DEFAULTS.databaseUrl,
      redisUrl: env.REDIS_URL || SHOP_DEFAULTS.redisUrl,
      edges: parseEdges(env.SHOP_EDGES),
      bugs: parseBugs(env.SHOP_BUGS),
      registryPrefix: env.SHOP_REGISTRY_PREFIX || SHOP_DEFAULTS.registryPrefix,
      registryTtlMs: int('SHOP_REGISTRY_TTL_MS', SHOP_DEFAULTS.registryTtlMs, 100),
      redisPrefix: env.SHOP_REDIS_PREFIX || SHOP_DEFAULTS.queuePrefix,
      logLevel: env.LOG_LEVEL || 'info',
      defaultMetrics: true,
      settings,
    },
  };
}
