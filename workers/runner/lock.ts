/**
 * One run per target: a Redis lock `<prefix>:lock:target:<target>` holding
 * the run id, with an expiry renewed by the holder's heartbeat. When the
 * holder dies, the lock lapses after `ttlMs` and the next run can start.
 * Renew and release only act when the lock still holds our run id.
 */
import type { Redis } from 'ioredis';

const RENEW = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

export class TargetLock {
  readonly key: string;

  constructor(
    private readonly redis: Redis,
    target: string,
    private readonly runId: string,
    private readonly ttlMs = 15_000,
    prefix = 'faultline',
  ) {
    this.key = `${prefix}:lock:target:${target}`;
  }

  /** True when acquired (or already ours). */
  async acquire(): Promise<boolean> {
    const r = await this.redis.set(this.key, this.runId, 'PX', this.ttlMs, 'NX');
    if (r === 'OK') return true;
    return (await this.redis.get(this.key)) === this.runId;
  }

  /** False when the lock was lost (expired and taken by another run). */
  async renew(): Promise<boolean> {
    return (await this.redis.eval(RENEW, 1, this.key, this.runId, String(this.ttlMs))) === 1;
  }

  async release(): Promise<void> {
    await this.redis.eval(RELEASE, 1, this.key, this.runId);
  }

  /** Run id holding the target now, if any. */
  static async holder(redis: Redis, target: string, prefix = 'faultline'): Promise<string | null> {
    return redis.get(`${prefix}:lock:target:${target}`);
  }
}
