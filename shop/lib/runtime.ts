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
import { DEFAULT_SETTINGS, bounded, type TServiceContext, type TServiceModule, type TServiceSettings } from './service-context.js';
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

/** What an instance holds: the control plane, opened at start, and the data plane, opened on first use. */
interface TInstance {
  name: TShopService;
  index: number;
  id: string;
  settings: TServiceSettings;
  edges: TEdges;
  bugs: Set<TShopBug>;
  redisPrefix: string;
  dataRedisUrl: string;
  /** The database URL before its edge is resolved (resolved when the service first uses it). */
  baseDbUrl: string;
  log: TServiceContext['log'];
  metrics: TServiceContext['metrics'];
  control: Redis;
  registry: ServiceRegistry;
  agent: Agent;
  db?: TShopDb;
  redis?: Redis;
  cache?: Redis;
  clients: Map<string, EdgeClient>;
  /** Set when the service touched its database (health then reports it). */
  dbHealthy?: () => Promise<Record<string, unknown>>;
  closing: boolean;
}

/** The instance's settings, logger, metrics and control plane (registry and HTTP agent) from the options. */
function openInstance(name: TShopService, opts: TStartServiceOptions, context: TRunContext): TInstance {
  const index = opts.index ?? 0;
  const id = opts.instanceId ?? instanceId(name, index);
  const settings: TServiceSettings = { ...DEFAULT_SETTINGS, ...opts.settings };
  const edges = opts.edges ?? {};
  const redisPrefix = opts.redisPrefix ?? SHOP_DEFAULTS.queuePrefix;
  const baseRedisUrl = opts.redisUrl ?? SHOP_DEFAULTS.redisUrl;
  const log = createLogger({ service: name, instance: id, level: opts.logLevel, destination: opts.logDestination, context });
  const metrics = createMetrics(name, { defaultMetrics: opts.defaultMetrics });
  // Control plane: direct, never through a fault proxy.
  const control = new Redis(baseRedisUrl, { maxRetriesPerRequest: 2, lazyConnect: false });
  control.on('error', () => {});
  return {
    name,
    index,
    id,
    settings,
    edges,
    bugs: new Set(opts.bugs ?? []),
    redisPrefix,
    dataRedisUrl: resolveUrl(edges, `${name}->redis`, baseRedisUrl),
    baseDbUrl: opts.databaseUrl ?? SHOP_DEFAULTS.databaseUrl,
    log,
    metrics,
    control,
    registry: new ServiceRegistry(control, opts.registryPrefix ?? `${redisPrefix}:registry`, opts.registryTtlMs ?? SHOP_DEFAULTS.registryTtlMs),
    agent: new Agent({ keepAliveTimeout: 30_000, connections: 128, connect: { timeout: settings.clientTimeoutMs } }),
    clients: new Map(),
    closing: false,
  };
}

/** The service module's view of the instance: data-plane connections and edge clients, each opened on first use. */
function serviceContext(i: TInstance, app: TServiceContext['app']): TServiceContext {
  const { name, settings, log, metrics } = i;
  return {
    service: name,
    instance: i.id,
    index: i.index,
    bugs: i.bugs,
    settings,
    log,
    metrics,
    app,
    nextId: createIdGenerator(name, i.index),
    redisPrefix: i.redisPrefix,
    redisUrl: i.dataRedisUrl,
    db() {
      const db = (i.db ??= createShopDb(resolveUrl(i.edges, `${name}->postgres`, i.baseDbUrl), { max: settings.dbPoolMax }));
      // Liveness, not readiness: a database fault must not make the supervisor see a
      // crash loop, so the answer stays 200 and only reports the dependency.
      i.dbHealthy ??= async () => {
        try {
          await bounded(db.$client.query('SELECT 1'), 500);
          return { db: 'ok' };
        } catch (e) {
          return { db: 'down', dbError: (e as Error).message };
        }
      };
      return db;
    },
    redis() {
      if (!i.redis) {
        i.redis = new Redis(i.dataRedisUrl, { maxRetriesPerRequest: null });
        i.redis.on('error', () => {});
      }
      return i.redis;
    },
    cache() {
      if (!i.cache) {
        i.cache = new Redis(i.dataRedisUrl, { maxRetriesPerRequest: 1, enableOfflineQueue: false, commandTimeout: 500 });
        i.cache.on('error', () => {});
      }
      return i.cache;
    },
    client(target) {
      let c = i.clients.get(target);
      if (!c) {
        const policy: TEdgePolicyOptions = {
          timeoutMs: settings.clientTimeoutMs,
          retries: settings.clientRetries,
          breakerThreshold: settings.breakerThreshold,
          breakerHalfOpenAfterMs: settings.breakerHalfOpenAfterMs,
          breakerDisabled: i.bugs.has('breaker-disabled'),
        };
        c = new EdgeClient({ service: name, target, registry: i.registry, edges: i.edges, agent: i.agent, metrics, log }, policy);
        i.clients.set(target, c);
      }
      return c;
    },
    get closing() {
      return i.closing;
    },
  };
}

/** Stop an instance (see TRunningService.close); every step is bounded. */
async function closeInstance(
  i: TInstance,
  app: TServiceContext['app'],
  faults: ReturnType<typeof createApp>['faults'],
  hooks: Awaited<ReturnType<TServiceModule['setup']>> & object,
  graceful: boolean,
): Promise<void> {
  const { registry, log, agent, control } = i;
  i.closing = true;
  faults.clear();
  if (graceful) await registry.deregister().catch(() => {});
  else registry.stopHeartbeat();
  if (!graceful) app.server.closeAllConnections();
  // Every step is bounded: a dependency that hangs (a proxy holding a
  // connection open) must not keep a stopping instance alive.
  await bounded(hooks.stop?.(graceful), 5000).catch((e: Error) => log.warn({ err: e.message }, 'stop hook failed'));
  await bounded(app.close(), 5000).catch(() => app.server.closeAllConnections());
  await bounded(agent.close(), 2000).catch(() => agent.destroy().catch(() => {}));
  // read now, not at the start: the stop hook may have opened them
  const { db, redis } = i;
  if (db) await bounded(db.$client.end(), 3000).catch(() => {});
  if (redis) {
    if (graceful) await bounded(redis.quit(), 2000).catch(() => redis.disconnect());
    else redis.disconnect();
  }
  i.cache?.disconnect();
  await bounded(control.quit(), 2000).catch(() => control.disconnect());
  log.info({ graceful }, 'service stopped');
  log.flush?.();
}

export async function startService(name: TShopService, opts: TStartServiceOptions = {}): Promise<TRunningService> {
  if (!SHOP_SERVICES.includes(name)) throw new Error(`unknown shop service "${name}" (known: ${SHOP_SERVICES.join(', ')})`);
  const context: TRunContext = { runId: null };
  const i = openInstance(name, opts, context);
  const { id, index, log, registry } = i;
  const { app, faults } = createApp({
    service: name,
    instance: id,
    log,
    metrics: i.metrics,
    context,
    health: async () => {
      if (i.closing) return { ok: false, closing: true };
      return i.dbHealthy ? i.dbHealthy() : {};
    },
  });

  const mod = await SERVICE_MODULES[name]();
  const hooks = (await mod.setup(serviceContext(i, app))) ?? {};
  await app.listen({ port: opts.port ?? 0, host: opts.host ?? '127.0.0.1' });
  const port = (app.server.address() as AddressInfo).port;
  const bound = opts.host ?? '127.0.0.1';
  const url = `http://${opts.advertiseHost ?? (bound === '0.0.0.0' || bound === '::' ? '127.0.0.1' : bound)}:${port}`;
  await registry.register(name, { id, index, url });
  log.info({ url, bugs: [...i.bugs], edges: Object.keys(i.edges).filter((e) => e.startsWith(`${name}->`)) }, 'service started');

  let closed: Promise<void> | undefined;
  const close = (o: { graceful?: boolean } = {}) => (closed ??= closeInstance(i, app, faults, hooks, o.graceful ?? true));
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
