/**
 * What a service module gets from the runtime (shop/lib/runtime.ts) and the
 * helpers it shares. Services import this, never the runtime, so the runtime
 * can load them (shop/services/registry.ts) without an import cycle.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { FastifyInstance } from 'fastify';
import { SHOP_DEFAULTS, type TShopBug, type TShopService } from '../config.js';
import type { TShopDb } from '../db/index.js';
import type { EdgeClient } from './client.js';
import type { TMetrics } from './metrics.js';

/** Tunables shared by the services; each has an env variable for main.ts. */
export interface TServiceSettings {
  /** Per-attempt timeout of service->service calls, ms (SHOP_CLIENT_TIMEOUT_MS). @defaultValue 2000 */
  clientTimeoutMs: number;
  /** Retries of idempotent calls (SHOP_CLIENT_RETRIES). @defaultValue 2 */
  clientRetries: number;
  /** Consecutive failures that open a breaker (SHOP_BREAKER_THRESHOLD). @defaultValue 5 */
  breakerThreshold: number;
  /** Open time before a half-open probe, ms (SHOP_BREAKER_HALF_OPEN_MS). @defaultValue 2000 */
  breakerHalfOpenAfterMs: number;
  /** A saga not terminal by then is driven to a terminal state by the sweeper, ms (SHOP_SAGA_DEADLINE_MS). @defaultValue 30000 */
  sagaDeadlineMs: number;
  /** Sweeper and outbox relay period, ms (SHOP_POLL_MS). @defaultValue 250 */
  pollMs: number;
  /** Gateway token bucket refill per client, requests/s (SHOP_RATE_LIMIT_RPS). @defaultValue 200 */
  rateLimitRps: number;
  /** Gateway token bucket size per client (SHOP_RATE_LIMIT_BURST). @defaultValue 400 */
  rateLimitBurst: number;
  /** Payments declines charges above this amount (SHOP_PAYMENT_LIMIT_CENTS). @defaultValue 500000 */
  paymentLimitCents: number;
  /**
   * Postgres pool size per instance (SHOP_DB_POOL_MAX). Small on purpose: a
   * full shop runs a dozen instances against one server (max_connections
   * 100 by default). @defaultValue 5
   */
  dbPoolMax: number;
}

export const DEFAULT_SETTINGS: TServiceSettings = {
  clientTimeoutMs: 2000,
  clientRetries: 2,
  breakerThreshold: 5,
  breakerHalfOpenAfterMs: 2000,
  sagaDeadlineMs: 30_000,
  pollMs: 250,
  rateLimitRps: 200,
  rateLimitBurst: 400,
  paymentLimitCents: SHOP_DEFAULTS.paymentLimitCents,
  dbPoolMax: 5,
};

export interface TServiceContext {
  service: TShopService;
  instance: string;
  index: number;
  bugs: ReadonlySet<TShopBug>;
  settings: TServiceSettings;
  log: Logger;
  metrics: TMetrics;
  app: FastifyInstance;
  nextId: () => string;
  redisPrefix: string;
  /** Postgres over the `<service>->postgres` edge (created on first use). */
  db(): TShopDb;
  /** Data-plane Redis over the `<service>->redis` edge (created on first use; BullMQ-compatible). */
  redis(): Redis;
  /**
   * Data-plane Redis for caches: fails fast (no offline queue, 500 ms command
   * timeout) so a Redis fault turns into a cache miss, not a hung request.
   */
  cache(): Redis;
  /** The data-plane Redis URL (for BullMQ connections of its own). */
  redisUrl: string;
  /** The resilient client of edge `<service>-><target>`. */
  client(target: TShopService): EdgeClient;
  /** Is this instance shutting down (background loops stop). */
  readonly closing: boolean;
}

export interface TServiceModule {
  setup(ctx: TServiceContext): Promise<{ stop?: (graceful: boolean) => Promise<void> } | void>;
}

/** Resolve with `p`, or reject after `ms` (the work itself continues detached). */
export async function bounded<T>(p: Promise<T> | undefined, ms: number): Promise<T | undefined> {
  if (!p) return undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, rej) => (timer = setTimeout(() => rej(new Error(`timed out after ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
