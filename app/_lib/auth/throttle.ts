/**
 * Sign-in throttling (pure, in memory per console process): after `max`
 * failed attempts for one user name within `windowMs`, further attempts
 * are refused until the oldest failure leaves the window — a password
 * cannot be guessed at request speed.
 */
export interface TThrottleOptions {
  /** Failures allowed per window. @defaultValue 5 */
  max?: number;
  /** @defaultValue 300000 (5 min) */
  windowMs?: number;
  /** Names tracked at most (oldest forgotten first), so a flood of names cannot grow memory. @defaultValue 10000 */
  maxKeys?: number;
}

export class LoginThrottle {
  private readonly failures = new Map<string, number[]>();
  private readonly max: number;
  private readonly windowMs: number;
  private readonly maxKeys: number;

  constructor(o: TThrottleOptions = {}) {
    this.max = o.max ?? 5;
    this.windowMs = o.windowMs ?? 300_000;
    this.maxKeys = o.maxKeys ?? 10_000;
  }

  /** Milliseconds until `key` may try again; 0 when it may now. */
  retryAfter(key: string, now = Date.now()): number {
    const list = (this.failures.get(key) ?? []).filter((t) => now - t < this.windowMs);
    if (list.length) this.failures.set(key, list);
    else this.failures.delete(key);
    return list.length >= this.max ? list[0] + this.windowMs - now : 0;
  }

  fail(key: string, now = Date.now()): void {
    const list = this.failures.get(key) ?? [];
    list.push(now);
    this.failures.delete(key);
    this.failures.set(key, list);
    if (this.failures.size > this.maxKeys) this.failures.delete(this.failures.keys().next().value as string);
  }

  succeed(key: string): void {
    this.failures.delete(key);
  }
}
