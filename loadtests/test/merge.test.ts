import { afterEach, describe, expect, it } from 'vitest';
import { runEngine } from '../engine/engine.js';
import { runLoad } from '../index.js';
import { encodeHistogram, MetricRegistry, newHistogram, recordMs } from '../engine/metrics.js';
import { mergeLoadResults, mergeSecond, mergeSeconds } from '../merge.js';
import { ENGINE_METRICS, parseScenario } from '../scenario.js';
import { evenSegmentSpec } from '../segments.js';
import { EXIT, type TLoadResult, type TLoadSecond } from '../types.js';
import { startFakeShop, type TFakeShop } from './fake-shop.js';

/** k6's exact percentile: all samples sorted, linear interpolation at p·(n−1) (metrics/sink.go). */
function exactPercentile(samples: number[], p: number): number {
  const s = [...samples].sort((a, b) => a - b);
  const i = (p / 100) * (s.length - 1);
  const lo = Math.floor(i);
  return lo + 1 < s.length ? s[lo] + (s[lo + 1] - s[lo]) * (i - lo) : s[lo];
}

/**
 * The histogram's percentile is one of the recorded values (HdrHistogram picks
 * a sample, k6 interpolates between the two around p·(n−1)), each kept to 3
 * significant digits: it must lie between those two samples, widened by 0.1 %.
 */
function expectWithinPrecision(value: number, samples: number[], p: number): void {
  const s = [...samples].sort((a, b) => a - b);
  const i = (p / 100) * (s.length - 1);
  const lo = s[Math.floor(i)];
  const hi = s[Math.ceil(i)];
  expect(value).toBeGreaterThanOrEqual(lo * 0.999 - 0.001);
  expect(value).toBeLessThanOrEqual(hi * 1.001 + 0.001);
}

/** Deterministic pseudo-random numbers (mulberry32). */
function rng(seed: number): () => number {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A segment's result holding the given latency samples (ms) as http_req_duration. */
function segmentResult(samples: number[], opts: { start: number; runMs: number; exitCode?: number } = { start: 1_000_000, runMs: 4000 }): TLoadResult {
  const reg = new MetricRegistry(
    ENGINE_METRICS,
    [{ name: 'http_req_duration{name:checkout}', metric: 'http_req_duration', tags: { name: 'checkout' } }],
    () => opts.runMs,
  );
  samples.forEach((v, i) => {
    const tags = { name: i % 3 === 0 ? 'checkout' : 'browse' };
    reg.add('http_req_duration', v, tags);
    reg.add('http_reqs', 1, tags);
    reg.add('http_req_failed', v > 900, tags);
  });
  reg.add('vus', 5);
  reg.add('vus_max', 8);
  return {
    engine: 'builtin',
    startedAt: opts.start - 100,
    endedAt: opts.start + opts.runMs,
    exitCode: opts.exitCode ?? 0,
    metrics: reg.summary(),
    thresholds: [],
    seconds: [],
    history: [],
    raw: { loadStartedAt: opts.start, runMs: opts.runMs, metrics: reg.toRaw() },
  };
}

describe('mergeLoadResults: histories', () => {
  it("keeps each segment's processes apart, so an invoke pairs with its own completion", () => {
    const s = parseScenario(`name: h
setup: { users: 1, products: 1 }
mix: { browse: 1 }
load: { executor: constant-arrival-rate, rate: 1, duration: 1s, preAllocatedVUs: 2, maxVUs: 2 }`);
    const ev = (time: number, process: number, type: 'invoke' | 'ok', f: string, orderId: string) =>
      ({ time, process, type, f, index: 0, value: { orderId } }) as unknown as TLoadResult['history'][number];
    const a = {
      ...segmentResult([5]),
      history: [
        ev(1, 0, 'invoke', 'login', '-'),
        ev(2, 0, 'ok', 'login', '-'),
        ev(10, 1, 'invoke', 'checkout', 'A'),
        ev(30, 1, 'ok', 'checkout', 'A'),
        ev(31, 2, 'invoke', 'browse', '-'),
      ],
    };
    const b = { ...segmentResult([5]), history: [ev(20, 1, 'invoke', 'cancel', 'B'), ev(25, 1, 'ok', 'cancel', 'B'), ev(26, 3, 'invoke', 'browse', '-')] };
    const merged = mergeLoadResults(s, [a, b]).history;
    const byProcess = new Map<number, string[]>();
    for (const e of merged) byProcess.set(e.process, [...(byProcess.get(e.process) ?? []), `${e.type} ${e.f} ${(e.value as { orderId: string }).orderId}`]);
    expect(byProcess.get(0)).toEqual(['invoke login -', 'ok login -']);
    expect(byProcess.get(1)).toEqual(['invoke checkout A', 'ok checkout A']);
    expect(byProcess.get(2)).toEqual(['invoke browse -']);
    // b's processes come after a's highest (2): 1 → 3, 3 → 5
    expect(byProcess.get(3)).toEqual(['invoke cancel B', 'ok cancel B']);
    expect(byProcess.get(5)).toEqual(['invoke browse -']);
    expect(merged.map((e) => e.time)).toEqual([1, 2, 10, 20, 25, 26, 30, 31]);
  });
});

describe('mergeLoadResults: exact merge of segment results', () => {
  // three segments with different latency profiles: averaging their p99s would be far off
  const r = rng(42);
  const fast = Array.from({ length: 6000 }, () => 2 + r() * 8);
  const mixed = Array.from({ length: 3000 }, () => (r() < 0.9 ? 5 + r() * 20 : 200 + r() * 700));
  const slow = Array.from({ length: 1000 }, () => 50 + Math.exp(r() * 6.5));
  const all = [...fast, ...mixed, ...slow];

  it('merged p50/p95/p99 equal the percentiles of the union of raw samples within the histogram precision (0.1 %)', () => {
    const merged = mergeLoadResults({ thresholds: {} }, [segmentResult(fast), segmentResult(mixed), segmentResult(slow)]);
    const v = merged.metrics.http_req_duration.values;
    for (const [k, p] of [
      ['med', 50],
      ['p(95)', 95],
      ['p(99)', 99],
      ['p(90)', 90],
    ] as const) {
      expectWithinPrecision(v[k], all, p);
      // and the samples around the percentile are dense here, so k6's interpolated value is as close
      expect(Math.abs(v[k] - exactPercentile(all, p)) / exactPercentile(all, p)).toBeLessThan(0.005);
    }
    expect(v.min).toBe(Math.min(...all));
    expect(v.max).toBe(Math.max(...all));
    expect(v.avg).toBeCloseTo(all.reduce((a, b) => a + b, 0) / all.length, 6);
    // the naive answer this replaces: the mean of the segments' p99s is nowhere near
    const avgOfP99 = [fast, mixed, slow].map((x) => exactPercentile(x, 99)).reduce((a, b) => a + b, 0) / 3;
    expect(Math.abs(avgOfP99 - exactPercentile(all, 99)) / exactPercentile(all, 99)).toBeGreaterThan(0.1);
  });

  it('counts add, sub-metrics merge too, gauges (vus) add, counter rate is over the merged run', () => {
    const merged = mergeLoadResults({ thresholds: {} }, [segmentResult(fast), segmentResult(mixed), segmentResult(slow)]);
    expect(merged.metrics.http_reqs.values.count).toBe(all.length);
    expect(merged.metrics.http_reqs.values.rate).toBeCloseTo(all.length / 4, 6);
    expect(merged.metrics.http_req_failed.values).toMatchObject({ passes: all.filter((x) => x > 900).length, fails: all.filter((x) => x <= 900).length });
    const checkout = [fast, mixed, slow].flatMap((x) => x.filter((_, i) => i % 3 === 0));
    expect(merged.metrics['http_req_duration{name:checkout}'].values.max).toBe(Math.max(...checkout));
    expectWithinPrecision(merged.metrics['http_req_duration{name:checkout}'].values['p(99)'], checkout, 99);
    expect(merged.metrics.vus_max.values.value).toBe(24);
  });

  it('judges thresholds once on the merged data (each segment alone would pass a count threshold the run fails, and vice versa)', () => {
    const scenario = parseScenario(`name: t
mix: { browse: 1 }
load: { executor: constant-arrival-rate, rate: 10, duration: 4s, preAllocatedVUs: 2 }
thresholds:
  http_reqs: ['count>=9000']
  http_req_duration: ['p(99)<400']
  http_req_duration{name:checkout}: ['max<5000']`);
    const parts = [segmentResult(fast), segmentResult(mixed), segmentResult(slow)];
    const merged = mergeLoadResults(scenario, parts);
    expect(merged.thresholds).toEqual([
      { metric: 'http_reqs', expression: 'count>=9000', ok: true },
      { metric: 'http_req_duration', expression: 'p(99)<400', ok: exactPercentile(all, 99) < 400 },
      { metric: 'http_req_duration{name:checkout}', expression: 'max<5000', ok: true },
    ]);
    expect(exactPercentile(all, 99)).toBeGreaterThan(400);
    expect(merged.exitCode).toBe(EXIT.THRESHOLDS_FAILED);
    expect(merged.metrics.http_reqs.thresholds).toEqual({ 'count>=9000': { ok: true } });
    // the fast segment alone passes the p99 threshold: a per-instance verdict would be wrong
    expect(mergeLoadResults(scenario, [parts[0]]).thresholds[1].ok).toBe(true);
  });

  it('an interrupted segment makes the merged run 105; a result without raw state is refused naming the field', () => {
    expect(mergeLoadResults({ thresholds: {} }, [segmentResult(fast), segmentResult(mixed, { start: 1_000_000, runMs: 2000, exitCode: 105 })]).exitCode).toBe(
      105,
    );
    const { raw: _raw, ...plain } = segmentResult(fast);
    expect(() => mergeLoadResults({ thresholds: {} }, [plain])).toThrow(
      expect.objectContaining({ code: 'VALIDATION', issues: [expect.objectContaining({ path: 'results.0.raw' })] }),
    );
  });
});

describe('mergeSeconds', () => {
  const sec = (t: number, samples: number[], extra: Partial<TLoadSecond> = {}): TLoadSecond => {
    const h = newHistogram();
    for (const v of samples) recordMs(h, v);
    return {
      t,
      rps: samples.length,
      errorsByKind: { http_503: 1 },
      p50: 0,
      p95: 0,
      p99: 0,
      cp50: 0,
      cp95: 0,
      cp99: 0,
      activeVus: 2,
      dropped: 1,
      target: samples.length + 1,
      hdr: { dur: encodeHistogram(h), cdur: encodeHistogram(h) },
      ...extra,
    };
  };

  it('aligns seconds on the earliest start and merges each from the histograms', () => {
    const a = Array.from({ length: 400 }, (_, i) => 1 + i / 10);
    const b = Array.from({ length: 100 }, (_, i) => 100 + i);
    const merged = mergeSeconds([
      [sec(10_000, a), sec(11_000, a)],
      [sec(10_004, b), sec(11_004, b), sec(12_004, b)],
    ]);
    expect(merged.map((s) => s.t)).toEqual([10_000, 11_000, 12_000]);
    expect(merged[0]).toMatchObject({ rps: 500, activeVus: 4, dropped: 2, target: 502, errorsByKind: { http_503: 2 } });
    expectWithinPrecision(merged[0].p99, [...a, ...b], 99);
    expectWithinPrecision(merged[0].p50, [...a, ...b], 50);
    expect(merged[2].rps).toBe(100);
  });

  it('refuses seconds without histograms (percentiles cannot be merged)', () => {
    expect(() => mergeSecond([sec(0, [1]), { ...sec(0, [2]), hdr: undefined }])).toThrow(/histograms/);
  });
});

describe('built-in engine segments', () => {
  let shop: TFakeShop | undefined;
  afterEach(async () => {
    await shop?.close();
    shop = undefined;
  });

  it('two segments with one shared setup run the unsegmented schedule between them and merge into one result', async () => {
    shop = await startFakeShop({ delayMs: () => 1 });
    const s = parseScenario(`name: seg
setup: { users: 2, products: 1 }
mix: { browse: 3, view_product: 1 }
load: { executor: constant-arrival-rate, rate: 40, duration: 2s, preAllocatedVUs: 9, maxVUs: 9 }
http: { timeout: 5s }
thresholds:
  iterations: ['count>=40']`);
    const setupData = { users: [], products: [{ id: 'p1', priceCents: 100 }] } as never;
    const startAt = Date.now() + 300;
    const parts = await Promise.all(
      [0, 1].map((i) => runEngine(s, { baseUrl: shop!.url, segment: evenSegmentSpec(i, 2), setupData, mergeable: true, startAt, collectHistory: true })),
    );
    const ran = (r: TLoadResult) => r.metrics.iterations.values.count + (r.metrics.dropped_iterations?.values.count ?? 0);
    // k6's striping of 80 iterations over 0:1/2 and 1/2:1: 40 each
    expect(parts.map(ran)).toEqual([40, 40]);
    // each segment only needed its share of the VUs: 9 pre-allocated → 5 + 4
    expect(parts.map((p) => p.metrics.vus_max.values.max)).toEqual([5, 4]);
    const merged = mergeLoadResults(s, parts);
    expect(ran(merged)).toBe(80);
    expect(merged.metrics.vus_max.values.value).toBe(9);
    expect(merged.seconds.reduce((n, x) => n + x.target, 0)).toBe(80);
    expect(merged.thresholds).toEqual([{ metric: 'iterations', expression: 'count>=40', ok: merged.metrics.iterations.values.count >= 40 }]);
    // no segment ran setup: the only requests are the load's (and the warm-up's /health)
    expect(merged.history.filter((e) => e.process === 0)).toEqual([]);
    expect(merged.history.map((e) => e.index)).toEqual(merged.history.map((_, i) => i));
  });

  it('runLoad with segments: N worker threads, setup once, one agreed start, one merged verdict', async () => {
    shop = await startFakeShop({ delayMs: () => 1 });
    const s = parseScenario(`name: seg3
setup: { users: 4, products: 1 }
mix: { browse: 2, checkout: 1 }
load: { executor: constant-arrival-rate, rate: 30, duration: 2s, preAllocatedVUs: 12, maxVUs: 12 }
segments: 3
http: { timeout: 5s }
thresholds:
  http_req_failed: ['rate<0.5']`);
    const seconds: TLoadSecond[] = [];
    const r = await runLoad(s, { engine: 'builtin', baseUrl: shop.url, onSecond: (x) => seconds.push(x) });
    // one setup for three segments
    expect(shop.counts['POST /users']).toBe(4);
    expect(r.metrics.iterations.values.count + (r.metrics.dropped_iterations?.values.count ?? 0)).toBe(60);
    expect(r.metrics.vus_max.values.value).toBe(12);
    expect(r.thresholds).toEqual([{ metric: 'http_req_failed', expression: 'rate<0.5', ok: true }]);
    expect(r.exitCode).toBe(0);
    // the live seconds were merged across the three threads: their targets add up to the schedule
    expect(seconds.reduce((n, x) => n + x.target, 0)).toBe(60);
    // checkouts of all segments used the shared users (the shop knows only those 4)
    expect(r.history.filter((e) => e.f === 'checkout' && e.type === 'ok').length).toBeGreaterThan(0);
  }, 60_000);
});
