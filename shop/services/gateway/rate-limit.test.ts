import { describe, expect, it } from 'vitest';
import { TokenBucketLimiter } from './rate-limit.js';

describe('TokenBucketLimiter', () => {
  it('allows a burst, then refills at the rate', () => {
    const l = new TokenBucketLimiter({ ratePerSec: 10, burst: 3 });
    const t = 1_000_000;
    expect([l.take('a', t), l.take('a', t), l.take('a', t)]).toEqual([0, 0, 0]);
    const wait = l.take('a', t);
    expect(wait).toBeCloseTo(100, 5); // one token per 100 ms
    expect(l.take('a', t + 100)).toBe(0);
    expect(l.take('a', t + 100)).toBeGreaterThan(0);
    // Idle time refills up to the burst only.
    expect([0, 1, 2, 3].map(() => l.take('a', t + 60_000))).toEqual([0, 0, 0, expect.any(Number)]);
  });

  it('keeps clients apart and bounds the number of buckets', () => {
    const l = new TokenBucketLimiter({ ratePerSec: 1, burst: 1, maxClients: 2 });
    expect(l.take('a', 0)).toBe(0);
    expect(l.take('b', 0)).toBe(0);
    expect(l.take('a', 0)).toBeGreaterThan(0);
    expect(l.take('c', 0)).toBe(0); // evicts the least recently used ('b')
    expect(l.take('b', 0)).toBe(0); // fresh bucket again
  });
});
