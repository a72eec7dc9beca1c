/**
 * Per-client token buckets (pure; time injected). A bucket holds up to
 * `burst` tokens and refills at `ratePerSec`; each request takes one.
 */
export interface TTokenBucketOptions {
  /** Refill rate, tokens per second. */
  ratePerSec: number;
  /** Bucket size (largest burst). */
  burst: number;
  /** Buckets kept at most; the least recently used are dropped. @defaultValue 50000 */
  maxClients?: number;
}

export class TokenBucketLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  constructor(private readonly opts: TTokenBucketOptions) {}

  /** Take one token for `client`: 0 when allowed, else ms until a token is available. */
  take(client: string, now: number = Date.now()): number {
    const { ratePerSec, burst } = this.opts;
    let b = this.buckets.get(client);
    if (b) {
      this.buckets.delete(client);
      b.tokens = Math.min(burst, b.tokens + ((now - b.at) / 1000) * ratePerSec);
      b.at = now;
    } else {
      b = { tokens: burst, at: now };
      if (this.buckets.size >= (this.opts.maxClients ?? 50_000)) this.buckets.delete(this.buckets.keys().next().value!);
    }
    this.buckets.set(client, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return ((1 - b.tokens) / ratePerSec) * 1000;
  }
}
