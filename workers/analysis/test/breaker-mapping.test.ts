/**
 * Breaker states read through a target's mapping (targets/ `breakerMapping`):
 * the shop's own `circuit_breaker_state` gives exactly what the analysis gave
 * before mappings existed, and Resilience4j's one-series-per-state gauge, as
 * Micrometer's Prometheus registry exposes it, gives the same timelines.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BREAKER_PRESETS, breakerMapping, loadTarget } from '../../../targets/index.js';
import { parseExposition } from '../../collectors/index.js';
import { breakerSampleState, breakerTimelines, checkBreakerExpectations, FAULTLINE_BREAKER_MAPPING, type TBreakerMapping } from '../breakers.js';
import type { TMetricSample } from '../types.js';

const T0 = 1_700_000_000_000;
const R4J = BREAKER_PRESETS.resilience4j;

/** Recorded before mappings (commit 8d07fca): shop-shaped samples with noise, and the timelines and verdicts made of them. */
const recorded = JSON.parse(readFileSync(path.join(import.meta.dirname, 'fixtures/shop-breakers.json'), 'utf8')) as {
  samples: TMetricSample[];
  faults: { name: string; appliedAt: number | null; removedAt: number | null; duration: number }[];
  runEnd: number;
  expectations: Parameters<typeof checkBreakerExpectations>[0];
  timelines: unknown;
  results: unknown;
};

/**
 * One scrape of a Resilience4j service through Micrometer's Prometheus registry
 * (Spring Boot actuator `/actuator/prometheus`): `resilience4j.circuitbreaker.state`
 * with tags `name` and `state`, 1.0 on the current state and 0.0 on the others,
 * and the application's common tags; Micrometer's exposition ends label sets with `,`.
 */
function r4jScrape(states: Record<string, string>): string {
  const lines = ['# HELP resilience4j_circuitbreaker_state The states of the circuit breaker', '# TYPE resilience4j_circuitbreaker_state gauge'];
  for (const [name, current] of Object.entries(states))
    for (const s of ['closed', 'disabled', 'forced_open', 'half_open', 'metrics_only', 'open'])
      lines.push(`resilience4j_circuitbreaker_state{application="ledger",name="${name}",state="${s}",} ${s === current ? '1.0' : '0.0'}`);
  lines.push(
    '# HELP resilience4j_circuitbreaker_failure_rate The failure rate of the circuit breaker',
    '# TYPE resilience4j_circuitbreaker_failure_rate gauge',
    ...Object.keys(states).map((n) => `resilience4j_circuitbreaker_failure_rate{application="ledger",name="${n}",} -1.0`),
  );
  return `${lines.join('\n')}\n`;
}

/** Scraped samples of `seconds` one-second scrapes of one instance, the state per breaker given by fn. */
function scrapes(seconds: number, fn: (s: number) => Record<string, string>, instance = 'ledger-0'): TMetricSample[] {
  return Array.from({ length: seconds }, (_, s) =>
    parseExposition(r4jScrape(fn(s)), [R4J.metric]).map((x) => ({ ...x, t: T0 + s * 1000, instance, service: 'ledger' })),
  ).flat();
}

const fault = { name: 'db-slow', appliedAt: T0 + 10_000, removedAt: T0 + 25_000, duration: 15_000 };

describe('breaker mappings', () => {
  it("the shop's mapping gives the same timelines and verdicts as before mappings, on a recorded sample set", async () => {
    const shop = breakerMapping((await loadTarget('shop')).target.metrics!.breakers!);
    expect(shop).toMatchObject(FAULTLINE_BREAKER_MAPPING);
    for (const opts of [{}, { mapping: shop }]) {
      const timelines = breakerTimelines(recorded.samples, [], recorded.faults, recorded.runEnd, opts);
      expect(timelines).toEqual(recorded.timelines);
      expect(checkBreakerExpectations(recorded.expectations, timelines, recorded.faults, recorded.runEnd, opts)).toEqual(recorded.results);
    }
    // the recording is not trivial: trips, half-open probes, a breaker never seen
    expect((recorded.timelines as { trips: unknown[] }[]).reduce((a, t) => a + t.trips.length, 0)).toBeGreaterThan(3);
    expect(recorded.results).toContainEqual(expect.objectContaining({ message: expect.stringContaining('no circuit_breaker_state samples') }));
  });

  it('reads a Resilience4j scrape: the state whose series is 1, by the name label', () => {
    const samples = scrapes(1, () => ({ 'api->ledger': 'half_open', 'api->fx': 'closed' }));
    expect(samples.map((s) => breakerSampleState(s, R4J)).filter(Boolean)).toEqual([
      { breaker: 'api->ledger', state: 'half-open' },
      { breaker: 'api->fx', state: 'closed' },
    ]);
    // a state the mapping names nowhere is not read; the faultline mapping reads none of it
    expect(
      scrapes(1, () => ({ 'api->ledger': 'forced_open' }))
        .map((s) => breakerSampleState(s, { ...R4J, also: {} }))
        .filter(Boolean),
    ).toEqual([]);
    expect(samples.map((s) => breakerSampleState(s, FAULTLINE_BREAKER_MAPPING)).filter(Boolean)).toEqual([]);
  });

  it('Resilience4j samples give the same timeline and verdicts as the same states on the faultline gauge', () => {
    // opens at 12 s, a failed half-open probe at 16 s, half-open at 27 s, closed at 28 s; api->fx never opens
    const state = (s: number) => (s >= 12 && s < 27 ? (s === 16 ? 'half_open' : 'open') : s === 27 ? 'half_open' : 'closed');
    const r4j = scrapes(40, (s) => ({ 'api->ledger': state(s), 'api->fx': 'closed' }));
    const gaugeOf = { closed: 0, open: 1, half_open: 2 } as Record<string, number>;
    const gauge: TMetricSample[] = Array.from({ length: 40 }, (_, s) =>
      ['api->ledger', 'api->fx'].map((b) => ({
        t: T0 + s * 1000,
        instance: 'ledger-0',
        service: 'ledger',
        metric: 'circuit_breaker_state',
        labels: { breaker: b },
        value: gaugeOf[b === 'api->fx' ? 'closed' : state(s)],
      })),
    ).flat();
    const baseline = breakerTimelines(gauge, [], [fault], T0 + 40_000);
    const timelines = breakerTimelines(r4j, [], [fault], T0 + 40_000, { mapping: R4J });
    expect(timelines).toEqual(baseline);
    const ledger = timelines.find((t) => t.breaker === 'api->ledger')!;
    expect(ledger.segments.map((s) => [s.state, s.from - T0])).toEqual([
      ['closed', 0],
      ['open', 12_000],
      ['half-open', 16_000],
      ['open', 17_000],
      ['half-open', 27_000],
      ['closed', 28_000],
    ]);
    expect(ledger.trips.map((t) => [t.t - T0, t.from, t.fault])).toEqual([
      [12_000, 'closed', 'db-slow'],
      [17_000, 'half-open', 'db-slow'],
    ]);
    const xs = [
      { breaker: 'api->ledger', opens_during: 'db-slow', closes_within: 5000 },
      { breaker: 'api->ledger', opens_during: 'db-slow', closes_within: 2000 },
      { breaker: 'api->fx', opens_during: 'db-slow', closes_within: 5000 },
      { breaker: 'api->users', opens_during: 'db-slow', closes_within: 5000 },
    ];
    const results = checkBreakerExpectations(xs, timelines, [fault], T0 + 40_000, { mapping: R4J });
    expect(results.map((r) => [r.pass, r.timeToOpenMs, r.timeToCloseMs])).toEqual([
      [true, 2000, 3000],
      [false, 2000, 3000],
      [false, null, null],
      [false, null, null],
    ]);
    expect(results[2].message).toMatch(/did not open during db-slow/);
    expect(results[3].message).toBe('no state observed for breaker api->users (no resilience4j_circuitbreaker_state samples or breaker log lines)');
  });

  it("Resilience4j's forced_open reads as open (calls rejected), disabled and metrics_only as closed (calls let through)", () => {
    // an operator forces api->ledger open at 5 s and disables it at 20 s; api->fx only records metrics
    const state = (s: number) => (s < 5 ? 'closed' : s < 20 ? 'forced_open' : 'disabled');
    const r4j = scrapes(30, (s) => ({ 'api->ledger': state(s), 'api->fx': 'metrics_only' }));
    expect(
      breakerSampleState(
        r4j.find((x) => x.labels.state === 'forced_open' && x.value === 1)!,
        R4J,
      ),
    ).toEqual({ breaker: 'api->ledger', state: 'open' });
    const timelines = breakerTimelines(r4j, [], [fault], T0 + 30_000, { mapping: R4J });
    expect(timelines.find((t) => t.breaker === 'api->ledger')!.segments.map((x) => [x.state, x.from - T0])).toEqual([
      ['closed', 0],
      ['open', 5000],
      ['closed', 20_000],
    ]);
    expect(timelines.find((t) => t.breaker === 'api->fx')!.segments.map((x) => x.state)).toEqual(['closed']);
  });

  it('a mapping of its own: value-encoded states other than 0/1/2 and another name label', () => {
    const mine: TBreakerMapping = { metric: 'cb_state', name_label: 'circuit', encoding: 'value', states: { closed: 10, open: 20, half_open: 30 } };
    const samples = [10, 20, 20, 30, 10].map((value, s) => ({
      t: T0 + s * 1000,
      instance: 'a-0',
      service: 'a',
      metric: 'cb_state',
      labels: { circuit: 'a->b' },
      value,
    }));
    const [tl] = breakerTimelines(samples, [], [], T0 + 5000, { mapping: mine });
    expect(tl.segments.map((s) => s.state)).toEqual(['closed', 'open', 'half-open', 'closed']);
    expect(breakerTimelines(samples, [], [], T0 + 5000)).toEqual([]);
  });
});
