import { describe, expect, it } from 'vitest';
import { evaluateThresholds, parseMetricSelector, parseThresholdExpression, type TThresholdDef } from '../thresholds.js';
import { MetricRegistry } from '../engine/metrics.js';
import { ENGINE_METRICS } from '../scenario.js';

describe('threshold expressions', () => {
  it('parses k6 aggregations and operators', () => {
    expect(parseThresholdExpression('p(95)<300')).toMatchObject({ agg: 'p(95)', op: '<', value: 300 });
    expect(parseThresholdExpression(' p(99.9) <= 1.5 ')).toMatchObject({ agg: 'p(99.9)', op: '<=', value: 1.5 });
    expect(parseThresholdExpression('rate<0.01')).toMatchObject({ agg: 'rate', op: '<', value: 0.01 });
    expect(parseThresholdExpression('count==0')).toMatchObject({ agg: 'count', op: '==', value: 0 });
    expect(parseThresholdExpression('count===0')).toMatchObject({ op: '===' });
    expect(parseThresholdExpression('avg!=2')).toMatchObject({ agg: 'avg', op: '!=' });
  });

  it('rejects what k6 rejects, with a message naming the expression', () => {
    expect(() => parseThresholdExpression('p95<300')).toThrow(/p95<300/);
    expect(() => parseThresholdExpression('p(101)<3')).toThrow(/between 0 and 100/);
    expect(() => parseThresholdExpression('avg<')).toThrow();
    expect(() => parseThresholdExpression('avg => 3')).toThrow();
  });

  it('parses sub-metric selectors', () => {
    expect(parseMetricSelector('http_req_duration{name:checkout}')).toEqual({ metric: 'http_req_duration', tags: { name: 'checkout' } });
    expect(parseMetricSelector('http_req_duration{ scenario: browse , status:"201" }')).toEqual({
      metric: 'http_req_duration',
      tags: { scenario: 'browse', status: '201' },
    });
    expect(parseMetricSelector('checks')).toEqual({ metric: 'checks', tags: {} });
    expect(() => parseMetricSelector('x{}')).toThrow(/empty/);
    expect(() => parseMetricSelector('x{a}')).toThrow(/tag:value/);
  });
});

describe('threshold evaluation', () => {
  const def = (key: string, expr: string, extra: Partial<TThresholdDef> = {}): TThresholdDef => {
    const sel = parseMetricSelector(key);
    return { key, metric: sel.metric, tags: sel.tags, expr: parseThresholdExpression(expr), abortOnFail: false, delayAbortEvalMs: 0, ...extra };
  };

  it('passes metrics with no data (k6#4283) and fails crossed ones', () => {
    const reg = new MetricRegistry(
      ENGINE_METRICS,
      [{ name: 'http_req_duration{name:checkout}', metric: 'http_req_duration', tags: { name: 'checkout' } }],
      () => 1000,
    );
    for (const v of [10, 20, 30, 400]) reg.add('http_req_duration', v, { name: 'browse' });
    reg.add('http_req_failed', true);
    reg.add('http_req_failed', false);
    const { results } = evaluateThresholds(
      [
        def('http_req_duration', 'p(50)<100'),
        def('http_req_duration', 'max<100'),
        def('http_req_duration{name:checkout}', 'p(95)<1'),
        def('http_req_failed', 'rate<0.1'),
        def('dropped_iterations', 'count==0'),
      ],
      reg,
      1000,
    );
    expect(results.map((r) => r.ok)).toEqual([true, false, true, false, true]);
  });

  it('sub-metrics only see samples carrying all their tags', () => {
    const reg = new MetricRegistry(
      ENGINE_METRICS,
      [{ name: 'http_req_duration{name:checkout,status:201}', metric: 'http_req_duration', tags: { name: 'checkout', status: '201' } }],
      () => 1000,
    );
    reg.add('http_req_duration', 500, { name: 'checkout', status: '402' });
    reg.add('http_req_duration', 5, { name: 'checkout', status: '201' });
    expect(reg.value('http_req_duration{name:checkout,status:201}', 'max')).toBe(5);
    expect(reg.value('http_req_duration', 'max')).toBe(500);
  });

  it('abortOnFail aborts only once delayAbortEval has passed', () => {
    const reg = new MetricRegistry(ENGINE_METRICS, [], () => 1000);
    reg.add('http_req_failed', true);
    const d = def('http_req_failed', 'rate<0.5', { abortOnFail: true, delayAbortEvalMs: 10_000 });
    expect(evaluateThresholds([d], reg, 5000).abort).toBeUndefined();
    expect(evaluateThresholds([d], reg, 10_000).abort).toMatchObject({ metric: 'http_req_failed', expression: 'rate<0.5', ok: false });
  });

  it('counter rate is count per elapsed second; trend percentiles within HdrHistogram precision', () => {
    const reg = new MetricRegistry(ENGINE_METRICS, [], () => 4000);
    for (let i = 1; i <= 1000; i++) reg.add('http_req_duration', i);
    reg.add('http_reqs', 10);
    expect(reg.value('http_reqs', 'rate')).toBe(2.5);
    expect(reg.value('http_req_duration', 'p(95)')).toBeGreaterThan(949);
    expect(reg.value('http_req_duration', 'p(95)')).toBeLessThan(951.5);
    expect(reg.value('http_req_duration', 'avg')).toBe(500.5);
    expect(reg.value('http_req_duration', 'min')).toBe(1);
    expect(reg.value('http_req_duration', 'max')).toBe(1000);
  });
});
