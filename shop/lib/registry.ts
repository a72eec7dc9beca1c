/**
 * Service registry on Redis: heartbeats with a TTL, discovery of healthy
 * instances. Uses the direct control-plane connection (never an edge proxy).
 *
 *   ZSET  <prefix>:<service>        member = instance id, score = last heartbeat (ms)
 *   HASH  <prefix>:<service>:info   instance id -> {"id","index","url"}
 *
 * An instance is healthy while now - score < ttl; stale members are pruned
 * by readers, so a crashed instance disappears within the TTL. When no
 * instance of a service is healthy, readers keep the last known list for a
 * while (10 TTLs) instead of failing every call outright.
 */
import type { Redis } from 'ioredis';

export interface TRegisteredInstance {
  id: string;
  index: number;
  url: string;
}

export class ServiceRegistry {
  private timer: NodeJS.Timeout | undefined;
  private self: { service: string; inst: TRegisteredInstance } | undefined;
  private cache = new Map<string, { at: number; list: TRegisteredInstance[]; lastNonEmpty: number }>();

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    readonly ttlMs: number,
  ) {}

  private key(service: string) {
    return `${this.prefix}:${service}`;
  }

  async register(service: string, inst: TRegisteredInstance): Promise<void> {
    this.self = { service, inst };
    await this.redis
      .multi()
      .hset(`${this.key(service)}:info`, inst.id, JSON.stringify(inst))
      .zadd(this.key(service), Date.now(), inst.id)
      .exec();
    // Four beats per TTL: a late beat or two (GC pause, busy event loop, slow Redis) does not evict a live instance.
    this.timer = setInterval(
      () => {
        // hset too: a reader may have pruned us while we were paused (SIGSTOP) past the TTL.
        this.redis
          .multi()
          .hset(`${this.key(service)}:info`, inst.id, JSON.stringify(inst))
          .zadd(this.key(service), Date.now(), inst.id)
          .exec()
          .catch(() => {});
      },
      Math.max(50, Math.floor(this.ttlMs / 4)),
    );
    this.timer.unref();
  }

  /** Stop heartbeating without deregistering (a crash, as seen by callers). */
  stopHeartbeat(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  async deregister(): Promise<void> {
    this.stopHeartbeat();
    if (!this.self) return;
    const { service, inst } = this.self;
    await this.redis
      .multi()
      .zrem(this.key(service), inst.id)
      .hdel(`${this.key(service)}:info`, inst.id)
      .exec();
    this.self = undefined;
  }

  /** Healthy instances of `service`, cached for `maxAgeMs` to keep Redis off the hot path. */
  async healthy(service: string, maxAgeMs: number = Math.min(500, this.ttlMs / 4)): Promise<TRegisteredInstance[]> {
    const now = Date.now();
    const hit = this.cache.get(service);
    if (hit && now - hit.at < maxAgeMs) return hit.list;
    const key = this.key(service);
    let list: TRegisteredInstance[] = [];
    try {
      const ids = await this.redis.zrangebyscore(key, now - this.ttlMs, '+inf');
      if (ids.length > 0) {
        const infos = await this.redis.hmget(`${key}:info`, ...ids);
        list = infos.filter((s): s is string => !!s).map((s) => JSON.parse(s) as TRegisteredInstance);
      }
    } catch (e) {
      // Registry unreachable: stale-if-error, callers skip instances that refuse connections.
      if (hit) return hit.list;
      throw e;
    }
    list.sort((a, b) => a.index - b.index);
    if (list.length === 0 && hit && hit.list.length > 0 && now - hit.lastNonEmpty < this.ttlMs * 10) {
      // Nobody heartbeated lately: more likely our own event loop or Redis
      // stalled than every instance died at once. Keep trying the last known
      // ones; the caller skips those that refuse connections.
      this.cache.set(service, { at: now, list: hit.list, lastNonEmpty: hit.lastNonEmpty });
      return hit.list;
    }
    this.cache.set(service, { at: now, list, lastNonEmpty: list.length > 0 ? now : (hit?.lastNonEmpty ?? 0) });
    // Prune stale members now and then so a long-gone instance does not linger in the hash.
    this.redis
      .zrangebyscore(key, '-inf', `(${now - this.ttlMs}`)
      .then(async (stale) => {
        if (stale.length === 0) return;
        await this.redis
          .multi()
          .zremrangebyscore(key, '-inf', `(${now - this.ttlMs}`)
          .hdel(`${key}:info`, ...stale)
          .exec();
      })
      .catch(() => {});
    return list;
  }
}
