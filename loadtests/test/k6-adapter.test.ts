import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fromHandleSummary, fromSummaryExport, k6ErrorKind, parseK6History, parseK6Points } from '../k6-adapter/parse.js';
import { formatSummary } from '../summary.js';

// shared/ lies beside the checkout (as in CI's fresh clone)
const FIX = path.resolve(import.meta.dirname, '../../../shared/fixtures/k6');
const read = (f: string) => readFileSync(`${FIX}/${f}`, 'utf8');

describe('k6 output parsers on the recorded k6 v1.3.0 run', () => {
  const hs = fromHandleSummary(JSON.parse(read('handle-summary-data.json')));
  const pts = parseK6Points(read('points.jsonl'));

  it('reads handleSummary metrics with their types and values', () => {
    expect(hs.metrics.http_reqs).toEqual({ type: 'counter', contains: 'default', values: { count: 210, rate: 49.58918408360167 } });
    expect(hs.metrics['http_req_duration{scenario:browse}'].values['p(95)']).toBeCloseTo(6.51166965);
    expect(hs.metrics.checks.values).toEqual({ fails: 6, rate: 0.9714285714285714, passes: 204 });
    expect(hs.durationMs).toBeCloseTo(4234.794419);
  });

  it('reads thresholds including sub-metrics; the crossed one explains exit code 99', () => {
    expect(hs.thresholds).toEqual([
      { metric: 'checks', expression: 'rate>0.8', ok: true },
      { metric: 'http_req_duration{scenario:browse}', expression: 'p(95)<100', ok: true },
      { metric: 'http_req_failed', expression: 'rate<0.05', ok: true },
      { metric: 'shop_checkout_duration', expression: 'avg<400', ok: true },
      { metric: 'shop_checkout_duration', expression: 'p(99)<200', ok: false },
    ]);
    expect(read('exit-code.txt').trim()).toBe('99');
    expect(hs.thresholds.some((t) => !t.ok)).toBe(true);
  });

  it('reads the legacy --summary-export into the same model (thresholds there mean "failed")', () => {
    const se = fromSummaryExport(JSON.parse(read('summary-export.json')), pts.metricTypes);
    expect(se.thresholds).toEqual(hs.thresholds);
    for (const [name, m] of Object.entries(hs.metrics)) {
      expect(se.metrics[name]?.type, name).toBe(m.type);
      expect(se.metrics[name].values, name).toEqual(m.values);
    }
  });

  it('infers types from the legacy file alone', () => {
    const se = fromSummaryExport(JSON.parse(read('summary-export.json')));
    expect(se.metrics.checks.type).toBe('rate');
    expect(se.metrics.http_reqs.type).toBe('counter');
    expect(se.metrics.http_req_duration.type).toBe('trend');
    expect(se.metrics.vus.type).toBe('gauge');
  });

  it('turns --out json points into per-second series that add up to the summary', () => {
    expect(pts.badLines).toBe(0);
    expect(pts.metricTypes.shop_checkout_duration).toEqual({ type: 'trend', contains: 'time', thresholds: ['p(99)<200', 'avg<400'] });
    const total = pts.seconds.reduce((s, x) => s + x.rps, 0);
    expect(total).toBe(210);
    const errors = pts.seconds.reduce((s, x) => s + Object.values(x.errorsByKind).reduce((a, b) => a + b, 0), 0);
    expect(errors).toBe(6);
    expect(pts.seconds.flatMap((x) => Object.keys(x.errorsByKind))).toContain('http_503');
    expect(pts.seconds.length).toBeGreaterThanOrEqual(4);
    expect(pts.seconds.length).toBeLessThanOrEqual(6);
    for (let i = 1; i < pts.seconds.length; i++) expect(pts.seconds[i].t - pts.seconds[i - 1].t).toBe(1000);
    const maxP99 = Math.max(...pts.seconds.map((x) => x.p99));
    expect(maxP99).toBeGreaterThan(150);
    expect(maxP99).toBeLessThanOrEqual(235.2);
    expect(pts.seconds.reduce((s, x) => s + x.target, 0)).toBe(210);
  });

  it('maps k6 error codes to error kinds', () => {
    expect(k6ErrorKind({ status: '503' })).toBe('http_503');
    expect(k6ErrorKind({ status: '0', error_code: '1050' })).toBe('timeout');
    expect(k6ErrorKind({ status: '0', error_code: '1212' })).toBe('econnrefused');
  });

  it('reads history events the scripts log through --log-format=json, ignoring other lines', () => {
    const ev = { type: 'ok', f: 'checkout', process: 3, time: 1, value: { orderId: '42', idempotencyKey: 'k' } };
    const stderr = [
      JSON.stringify({ level: 'info', msg: `faultline.history ${JSON.stringify({ ...ev, type: 'invoke' })}`, source: 'console' }),
      JSON.stringify({ level: 'warning', msg: 'Insufficient VUs, reached 20 active VUs' }),
      'not json at all faultline.history',
      JSON.stringify({ level: 'info', msg: `faultline.history ${JSON.stringify(ev)}`, source: 'console' }),
    ].join('\n');
    const h = parseK6History(stderr);
    expect(h).toEqual([
      { ...ev, type: 'invoke', index: 0 },
      { ...ev, index: 1 },
    ]);
  });

  it('prints a k6-style summary of a k6 result', () => {
    const text = formatSummary({
      engine: 'k6',
      startedAt: 0,
      endedAt: 4234,
      exitCode: 99,
      metrics: hs.metrics,
      thresholds: hs.thresholds,
      seconds: pts.seconds,
      history: [],
    });
    // p(99) is not among that run's summaryTrendStats, so k6 reports no observed value for it either
    expect(text).toMatch(/✗ 'p\(99\)<200'/);
    expect(text).toMatch(/✓ 'p\(95\)<100' p\(95\)=6\.51ms/);
    expect(text).toMatch(/http_reqs\.+: 210 49\.59\/s/);
    expect(text).toMatch(/exit status 99 \(thresholds crossed\)/);
  });
});
