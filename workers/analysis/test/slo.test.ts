import { describe, expect, it } from 'vitest';
import type { TSlo } from '../../../experiments/index.js';
import { counterIncreases, currentBurn, evaluateSlos, worstBurn, type TBins } from '../slo.js';
import type { THistoryEventLike, TMetricSample } from '../types.js';

const T0 = 1_700_000_000_000;
const avail: TSlo = { name: 'co-avail', route: 'POST /checkout', sli: 'availability', objective: 99, window: 30 * 86_400_000 };
const lat: TSlo = { name: 'co-lat', route: 'POST /checkout', sli: 'latency', threshold_ms: 500, objective: 90, window: 30 * 86_400_000 };

/** 100 checkouts over 100 s: 10 are 503s in seconds 40–49, 5 time out (info) at 60–64; latencies 100 ms, corrected 900 ms in 20–39. */
function history(): THistoryEventLike[] {
  const out: THistoryEventLike[] = [];
  for (let i = 0; i < 100; i++) {
    const time = T0 + i * 1000 + 500;
    const base = { index: i, f: 'checkout', process: i, time, value: { idempotencyKey: `k${i}` } };
    if (i >= 40 && i < 50) out.push({ ...base, type: 'fail', value: { ...base.value, status: 503 }, latencyMs: 100, correctedLatencyMs: 100 });
    else if (i >= 60 && i < 65) out.push({ ...base, type: 'info', value: { ...base.value, error: 'timeout' } });
    else if (i >= 70 && i < 73) out.push({ ...base, type: 'fail', value: { ...base.value, status: 402 }, latencyMs: 80, correctedLatencyMs: 80 });
    else out.push({ ...base, type: 'ok', value: { ...base.value, status: 201 }, latencyMs: 100, correctedLatencyMs: i >= 20 && i < 40 ? 900 : 100 });
  }
  // other routes and invokes must be ignored
  out.push({ index: 1000, type: 'invoke', f: 'checkout', process: 1, time: T0, value: {} });
  out.push({ index: 1001, type: 'fail', f: 'browse', process: 2, time: T0 + 1000, value: { status: 500 } });
  return out;
}

describe('SLOs from the client history', () => {
  it('counts good/valid, SLI, pass, budget and burn for availability', () => {
    const [r] = evaluateSlos({ slos: [avail], history: history(), samples: [], runStart: T0, runEnd: T0 + 100_000 });
    const c = r.figures.find((f) => f.source === 'client-corrected')!;
    // 503s and timeouts are bad; 402 declines are answers the shop meant
    expect(c.valid).toBe(100);
    expect(c.good).toBe(85);
    expect(c.sli).toBeCloseTo(85, 6);
    expect(c.pass).toBe(false);
    expect(r.verdict).toBe('fail');
    // the run may have 1 % of its 100 valid events bad: 1 allowed, 15 bad → 1500 % of this run's budget
    expect(c.bad).toBe(15);
    expect(c.allowedBad).toBeCloseTo(1, 9);
    expect(c.budgetConsumedPct).toBeCloseTo(1500, 6);
    // worst 1-min window holds all 15 bad of 60 → 0.25/0.01
    expect(c.worstBurn1m).toBeCloseTo(25, 6);
    // the 5-min window is longer than the run: the whole run
    expect(c.worstBurn5m).toBeCloseTo(15, 6);
    const server = r.figures.find((f) => f.source === 'server')!;
    expect(server.sli).toBeNull();
    expect(server.note).toMatch(/no http_server_request_duration_seconds samples/);
  });

  it('corrected latency sees the stall that k6-style latency hides', () => {
    const [r] = evaluateSlos({ slos: [lat], history: history(), samples: [], runStart: T0, runEnd: T0 + 100_000 });
    const c = r.figures.find((f) => f.source === 'client-corrected')!;
    const k = r.figures.find((f) => f.source === 'client-k6')!;
    expect(c.valid).toBe(100);
    expect(k.valid).toBe(100);
    // k6-style: only the 5 timeouts are bad; corrected: also the 20 stalled
    expect(k.good).toBe(95);
    expect(c.good).toBe(75);
    expect(k.pass).toBe(true);
    expect(c.pass).toBe(false);
    expect(r.verdict).toBe('fail');
  });

  it('a 503 the load engine marks info (effect unknown) is still an answer: fast is good latency, bad availability', () => {
    const h: THistoryEventLike[] = [
      { index: 0, type: 'info', f: 'checkout', process: 1, time: T0 + 500, value: { status: 503 }, latencyMs: 40, correctedLatencyMs: 40 },
      {
        index: 1,
        type: 'info',
        f: 'checkout',
        process: 2,
        time: T0 + 600,
        value: { status: 0, error: 'timeout' },
        latencyMs: 10_000,
        correctedLatencyMs: 10_000,
      },
      { index: 2, type: 'fail', f: 'checkout', process: 3, time: T0 + 700, value: { status: 409 }, latencyMs: 30, correctedLatencyMs: 30 },
    ];
    const [a, l] = evaluateSlos({ slos: [avail, lat], history: h, samples: [], runStart: T0, runEnd: T0 + 1000 });
    expect(a.figures[0]).toMatchObject({ good: 1, valid: 3 });
    expect(l.figures[0]).toMatchObject({ good: 2, valid: 3 });
  });

  it('passes when the objective is met', () => {
    const h = history().map((e) =>
      e.type === 'fail' || e.type === 'info' ? { ...e, type: 'ok' as const, value: { status: 201 }, latencyMs: 90, correctedLatencyMs: 90 } : e,
    );
    const [r] = evaluateSlos({ slos: [avail], history: h, samples: [], runStart: T0, runEnd: T0 + 100_000 });
    expect(r.verdict).toBe('pass');
    expect(r.figures[0].worstBurn1m).toBe(0);
  });

  it('no events for the route fails the SLO with a note', () => {
    const [r] = evaluateSlos({ slos: [{ ...avail, route: 'GET /orders/:id' }], history: history(), samples: [], runStart: T0, runEnd: T0 + 100_000 });
    expect(r.verdict).toBe('fail');
    expect(r.figures[0].note).toBe('no valid events');
  });

  it('currentBurn looks at the trailing window only', () => {
    const h = history();
    expect(currentBurn(h, avail, T0 + 50_000, 10_000)).toBeCloseTo(100, 6);
    expect(currentBurn(h, avail, T0 + 20_000, 10_000)).toBe(0);
    expect(currentBurn(h, avail, T0 - 5000, 10_000)).toBeNull();
  });

  it('worstBurn ignores partial windows at the run start', () => {
    const bins: TBins = new Map([[T0, { good: 0, valid: 1 }]]);
    for (let s = 1; s < 120; s++) bins.set(T0 + s * 1000, { good: 10, valid: 10 });
    // one bad event of 591 in the first full minute, not a 100 % first second
    expect(worstBurn(bins, 99, 60_000, T0, T0 + 120_000)).toBeCloseTo(1 / 591 / 0.01, 6);
  });
});

function hist(t: number, instance: string, status: string, le: string, value: number, metric = 'http_server_request_duration_seconds_bucket'): TMetricSample {
  return { t, instance, service: 'gateway', metric, labels: { service: 'gateway', route: '/checkout', method: 'POST', status, ...(le ? { le } : {}) }, value };
}

describe('SLOs from scraped histograms', () => {
  it('computes increases across counter resets and late series', () => {
    const s: TMetricSample[] = [
      hist(T0, 'g-0', '201', '+Inf', 1000), // baseline before the run
      hist(T0 + 1000, 'g-0', '201', '+Inf', 1010),
      hist(T0 + 2000, 'g-0', '201', '+Inf', 4), // restart: 4 since the reset
      hist(T0 + 3000, 'g-0', '201', '+Inf', 9),
      hist(T0 + 2000, 'g-0', '503', '+Inf', 3), // first 503 series appears mid-run: counts in full
    ];
    const incs = counterIncreases(s);
    const total = incs.reduce((a, x) => a + x.inc, 0);
    expect(total).toBe(10 + 4 + 5 + 3);
  });

  it('server availability and latency use _count and the bucket at the threshold', () => {
    const samples: TMetricSample[] = [];
    for (const [i, t] of [T0, T0 + 10_000, T0 + 20_000].entries()) {
      // per scrape +50 ok (40 within 0.5 s), +5 errors (all fast)
      samples.push(hist(t, 'g-0', '201', '0.5', 1000 + 40 * i));
      samples.push(hist(t, 'g-0', '201', '1', 1000 + 48 * i));
      samples.push(hist(t, 'g-0', '201', '+Inf', 1000 + 50 * i));
      samples.push(hist(t, 'g-0', '201', '', 1000 + 50 * i, 'http_server_request_duration_seconds_count'));
      samples.push(hist(t, 'g-0', '503', '0.5', 100 + 5 * i));
      samples.push(hist(t, 'g-0', '503', '+Inf', 100 + 5 * i));
      samples.push(hist(t, 'g-0', '503', '', 100 + 5 * i, 'http_server_request_duration_seconds_count'));
      // another route must not count
      samples.push({
        ...hist(t, 'g-0', '500', '', 7 * i, 'http_server_request_duration_seconds_count'),
        labels: { service: 'gateway', route: '/products', method: 'GET', status: '500' },
      });
    }
    const [a, l] = evaluateSlos({ slos: [avail, lat], history: [], samples, runStart: T0, runEnd: T0 + 20_000 });
    const sa = a.figures.find((f) => f.source === 'server')!;
    expect(sa).toMatchObject({ good: 100, valid: 110 });
    const sl = l.figures.find((f) => f.source === 'server')!;
    expect(sl).toMatchObject({ good: 90, valid: 110 });
    expect(sl.note).toBeUndefined();
    const [l2] = evaluateSlos({ slos: [{ ...lat, threshold_ms: 700 }], history: [], samples, runStart: T0, runEnd: T0 + 20_000 });
    expect(l2.figures[2].note).toMatch(/le=0.5s used for threshold 700 ms/);
  });
});
