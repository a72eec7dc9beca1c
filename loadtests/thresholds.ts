/**
 * k6 thresholds, pure: parse `metric{tag:value}` selectors and `<agg> <op> <value>`
 * expressions, and evaluate them against summary values. Rules from k6
 * (metrics/thresholds.go, engine.go): aggregations per metric type, a metric
 * without samples is skipped (no data ⇒ pass), abortOnFail aborts only when
 * delayAbortEval has elapsed.
 */
export type TMetricType = 'counter' | 'gauge' | 'rate' | 'trend';
export type TThresholdOp = '<' | '<=' | '>' | '>=' | '==' | '===' | '!=';

export interface TThresholdExpr {
  /** The expression as written (`p(95)<300`). */
  source: string;
  /** Aggregation key as k6 names it in summaries (`p(95)`, `avg`, `rate`, ...). */
  agg: string;
  op: TThresholdOp;
  value: number;
}

export interface TThresholdDef {
  /** The thresholds key: metric plus optional sub-metric tags. */
  key: string;
  metric: string;
  tags: Record<string, string>;
  expr: TThresholdExpr;
  abortOnFail: boolean;
  /** ms after the start before a failure may abort the run. */
  delayAbortEvalMs: number;
}

/** Aggregations k6 accepts per metric type (trend `p(N)` handled separately). */
export const AGGS_BY_TYPE: Record<TMetricType, readonly string[]> = {
  counter: ['count', 'rate'],
  gauge: ['value'],
  rate: ['rate'],
  trend: ['avg', 'min', 'max', 'med'],
};

const EXPR = /^\s*(avg|min|max|med|count|rate|value|p\(\s*(-?\d+(?:\.\d+)?)\s*\))\s*(===|==|!=|<=|>=|<|>)\s*(-?\d+(?:\.\d+)?(?:e[+-]?\d+)?)\s*$/i;

/** Parse one expression; throws Error with a user-facing message. */
export function parseThresholdExpression(source: string): TThresholdExpr {
  const m = EXPR.exec(source);
  if (!m) throw new Error(`"${source}" is not a k6 threshold expression (<aggregation> <operator> <number>, e.g. p(95)<300)`);
  let agg = m[1].toLowerCase().replace(/\s+/g, '');
  if (m[2] !== undefined) {
    const p = Number(m[2]);
    // k6 ≥ 2.1 rejects percentiles outside 0..100
    if (!(p >= 0 && p <= 100)) throw new Error(`percentile ${m[2]} in "${source}" must be between 0 and 100`);
    agg = `p(${m[2]})`;
  }
  return { source, agg, op: m[3] as TThresholdOp, value: Number(m[4]) };
}

/** Split `http_req_duration{name:checkout, status:201}` into metric and tags. */
export function parseMetricSelector(key: string): { metric: string; tags: Record<string, string> } {
  const m = /^\s*([^{}\s]+)\s*(?:\{(.*)\})?\s*$/.exec(key);
  if (!m) throw new Error(`"${key}" is not a metric name or metric{tag:value} selector`);
  const tags: Record<string, string> = {};
  if (m[2] !== undefined) {
    const body = m[2].trim();
    if (body === '') throw new Error(`"${key}": empty sub-metric selector`);
    for (const part of body.split(',')) {
      const idx = part.indexOf(':');
      if (idx <= 0) throw new Error(`"${key}": sub-metric tag "${part.trim()}" must be tag:value`);
      const k = part.slice(0, idx).trim();
      const v = part
        .slice(idx + 1)
        .trim()
        .replace(/^["'](.*)["']$/, '$1');
      if (!k) throw new Error(`"${key}": empty tag name`);
      tags[k] = v;
    }
  }
  return { metric: m[1], tags };
}

/** Canonical sub-metric name as k6 prints it (`name{a:1,b:2}` in the given order). */
export function selectorName(metric: string, tags: Record<string, string>): string {
  const parts = Object.entries(tags).map(([k, v]) => `${k}:${v}`);
  return parts.length ? `${metric}{${parts.join(',')}}` : metric;
}

/** Whether `agg` is valid for a metric of `type`. */
export function aggAllowed(type: TMetricType, agg: string): boolean {
  if (type === 'trend' && /^p\(/.test(agg)) return true;
  return AGGS_BY_TYPE[type].includes(agg);
}

export function compare(op: TThresholdOp, a: number, b: number): boolean {
  switch (op) {
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    case '>':
      return a > b;
    case '>=':
      return a >= b;
    case '==':
    case '===':
      return a === b;
    case '!=':
      return a !== b;
  }
}

/** A threshold entry as written in a scenario / k6 options. */
export type TThresholdInput = string | { threshold: string; abortOnFail?: boolean; delayAbortEval?: string | number };

/** What evaluation needs from a metric: whether it has samples and a value per aggregation. */
export interface TThresholdSource {
  hasData(name: string): boolean;
  value(name: string, agg: string): number;
}

export interface TThresholdResult {
  metric: string;
  expression: string;
  ok: boolean;
}

/**
 * Evaluate every threshold. Returns per-threshold results (metrics without
 * data pass, as in k6) and whether an abortOnFail threshold asks to stop.
 */
export function evaluateThresholds(
  defs: TThresholdDef[],
  src: TThresholdSource,
  elapsedMs: number,
): { results: TThresholdResult[]; abort: TThresholdResult | undefined } {
  const results: TThresholdResult[] = [];
  let abort: TThresholdResult | undefined;
  for (const d of defs) {
    let ok = true;
    if (src.hasData(d.key)) ok = compare(d.expr.op, src.value(d.key, d.expr.agg), d.expr.value);
    const r = { metric: d.key, expression: d.expr.source, ok };
    results.push(r);
    if (!ok && d.abortOnFail && !abort && elapsedMs >= d.delayAbortEvalMs) abort = r;
  }
  return { results, abort };
}
