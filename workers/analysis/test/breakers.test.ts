import { describe, expect, it } from 'vitest';
import { breakerLogTransition, breakerTimelines, checkBreakerExpectations } from '../breakers.js';
import type { TLogRecord, TMetricSample } from '../types.js';

const T0 = 1_700_000_000_000;
const B = 'orders->payments';

/** Gauge samples every second for `instance`, state per second given by fn. */
function gauge(instance: string, seconds: number, fn: (s: number) => number): TMetricSample[] {
  return Array.from({ length: seconds }, (_, s) => ({
    t: T0 + s * 1000,
    instance,
    service: 'orders',
    metric: 'circuit_breaker_state',
    labels: { service: 'orders', breaker: B },
    value: fn(s),
  }));
}

const fault = { name: 'payments-slow', appliedAt: T0 + 10_000, removedAt: T0 + 25_000, duration: 15_000 };

describe('breaker timelines', () => {
  it('builds segments, aligns trips with the fault, measures open and close', () => {
    // orders-0 opens at 12 s, half-open at 27 s, closed at 28 s; orders-1 opens at 13 s, closed at 30 s
    const samples = [...gauge('orders-0', 40, (s) => (s >= 12 && s < 27 ? 1 : s === 27 ? 2 : 0)), ...gauge('orders-1', 40, (s) => (s >= 13 && s < 30 ? 1 : 0))];
    const [tl] = breakerTimelines(samples, [], [fault], T0 + 40_000);
    expect(tl.breaker).toBe(B);
    expect(tl.instances).toEqual(['orders-0', 'orders-1']);
    expect(tl.trips.map((t) => [t.instance, t.t - T0, t.fault])).toEqual([
      ['orders-0', 12_000, 'payments-slow'],
      ['orders-1', 13_000, 'payments-slow'],
    ]);
    expect(tl.unexpectedTrips).toBe(0);
    expect(tl.flapping).toBe(false);
    expect(tl.segments.filter((s) => s.instance === 'orders-0').map((s) => [s.state, s.from - T0, s.to - T0])).toEqual([
      ['closed', 0, 12_000],
      ['open', 12_000, 27_000],
      ['half-open', 27_000, 28_000],
      ['closed', 28_000, 40_000],
    ]);
    const [r] = checkBreakerExpectations([{ breaker: B, opens_during: 'payments-slow', closes_within: 10_000 }], [tl], [fault], T0 + 40_000);
    expect(r).toMatchObject({ pass: true, timeToOpenMs: 2000, timeToCloseMs: 5000, opensWithinMs: 15_000 });
    const [slow] = checkBreakerExpectations([{ breaker: B, opens_during: 'payments-slow', closes_within: 4000 }], [tl], [fault], T0 + 40_000);
    expect(slow.pass).toBe(false);
    expect(slow.message).toMatch(/closed 5\.0 s after it ended \(limit 4\.0 s\)/);
  });

  it('a breaker that never opens (breaker disabled) fails the expectation', () => {
    const tl = breakerTimelines(
      gauge('orders-0', 40, () => 0),
      [],
      [fault],
      T0 + 40_000,
    );
    const [r] = checkBreakerExpectations([{ breaker: B, opens_during: 'payments-slow', closes_within: 10_000 }], tl, [fault], T0 + 40_000);
    expect(r.pass).toBe(false);
    expect(r.timeToOpenMs).toBeNull();
    expect(r.message).toMatch(/did not open during payments-slow/);
    const [none] = checkBreakerExpectations([{ breaker: B, opens_during: 'payments-slow', closes_within: 10_000 }], [], [fault], T0 + 40_000);
    expect(none.message).toMatch(/no state observed/);
  });

  it('flags flapping and trips no fault explains', () => {
    const samples = gauge('orders-0', 60, (s) => ([2, 3, 6, 7, 40, 41, 50].includes(s) ? 1 : 0));
    const [tl] = breakerTimelines(samples, [], [fault], T0 + 60_000);
    expect(tl.trips).toHaveLength(4);
    expect(tl.flapping).toBe(true);
    // 2 s and 6 s come before the fault; 40 s and 50 s after its 5 s grace
    expect(tl.unexpectedTrips).toBe(4);
  });

  it('failed half-open probes during a fault are re-trips, not flapping', () => {
    // opens at 12 s, probes at 14, 16, 18, 20 fail (half-open → open), closes at 27 s
    const samples = gauge('orders-0', 40, (s) => (s >= 12 && s < 27 ? ([14, 16, 18, 20].includes(s) ? 2 : 1) : 0));
    const [tl] = breakerTimelines(samples, [], [fault], T0 + 40_000);
    expect(tl.trips.map((t) => t.from)).toEqual(['closed', 'half-open', 'half-open', 'half-open', 'half-open']);
    expect(tl.flapping).toBe(false);
    expect(tl.unexpectedTrips).toBe(0);
  });

  it('log lines give exact transition times and win over a racing scrape', () => {
    const samples = gauge('orders-0', 20, (s) => (s >= 12 ? 1 : 0));
    // scrape at 11 s raced: the log says it opened at 10.4 s
    const logs: TLogRecord[] = [
      { time: T0 + 10_400, service: 'orders', instance: 'orders-0', msg: 'circuit breaker state change', fields: { breaker: B, from: 'closed', to: 'open' } },
    ];
    const [tl] = breakerTimelines(samples, logs, [fault], T0 + 20_000);
    expect(tl.trips.map((t) => t.t - T0)).toEqual([10_400]);
    expect(tl.trips[0].afterFaultStartMs).toBe(400);
    expect(tl.sources).toEqual({ metricSamples: 20, logLines: 1 });
    expect(tl.segments.map((s) => s.state)).toEqual(['closed', 'open']);
  });

  it('parses breaker transitions from structured fields and messages', () => {
    const rec = (msg: string, fields?: Record<string, unknown>): TLogRecord => ({ time: T0, service: 'orders', instance: 'orders-0', msg, fields });
    expect(breakerLogTransition(rec('x', { breaker: B, state: 'halfOpen' }))).toEqual({ breaker: B, state: 'half-open' });
    expect(breakerLogTransition(rec('breaker orders->catalog opened'))).toEqual({ breaker: 'orders->catalog', state: 'open' });
    expect(breakerLogTransition(rec('breaker orders->catalog closed'))).toEqual({ breaker: 'orders->catalog', state: 'closed' });
    expect(breakerLogTransition(rec('request done', { status: 200 }))).toBeNull();
  });
});
