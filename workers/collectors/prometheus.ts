/**
 * Parsing a Prometheus text exposition into flat samples (pure).
 *
 * parse-prometheus-text-format folds every histogram (and summary) into one
 * label-less object, losing the per-route series when a histogram has
 * labels — and prom-client writes `le` first, which is exactly that case.
 * So histogram/summary families are declared `untyped` before parsing: the
 * library then returns each `_bucket` / `_sum` / `_count` line as its own
 * sample with all its labels, which is the shape we store anyway.
 */
import parsePrometheusTextFormat from 'parse-prometheus-text-format';

export interface TScrapedSample {
  /** Sample name as exposed (`..._bucket`, `..._count`, or the metric itself). */
  metric: string;
  labels: Record<string, string>;
  value: number;
}

/** The metric families the analysis reads (DESIGN.md contracts); everything else is not stored. */
export const DEFAULT_KEPT_FAMILIES = [
  'http_server_request_duration_seconds',
  'http_client_request_duration_seconds',
  'circuit_breaker_state',
  'circuit_breaker_events_total',
  'saga_transitions_total',
  'outbox_pending',
] as const;

interface TParsedFamily {
  name: string;
  type: string;
  metrics: { value?: string; labels?: Record<string, string> }[];
}

/** The family a sample name belongs to (`x_bucket` → `x`). */
export function familyOf(sampleName: string): string {
  return sampleName.replace(/_(bucket|sum|count)$/, '');
}

/**
 * Parse exposition text; keep samples whose family (or own name) is in
 * `keep` (all when `keep` is undefined). Non-numeric values are skipped.
 */
export function parseExposition(text: string, keep?: readonly string[]): TScrapedSample[] {
  const untyped = text.replace(/^# TYPE (\S+) (histogram|summary)\s*$/gm, '# TYPE $1 untyped');
  const families = parsePrometheusTextFormat(untyped) as TParsedFamily[];
  const keepSet = keep ? new Set(keep) : undefined;
  const out: TScrapedSample[] = [];
  for (const f of families) {
    if (keepSet && !keepSet.has(f.name) && !keepSet.has(familyOf(f.name))) continue;
    for (const m of f.metrics) {
      if (m.value === undefined) continue;
      const value = Number(m.value);
      if (Number.isNaN(value)) continue;
      out.push({ metric: f.name, labels: m.labels ?? {}, value });
    }
  }
  return out;
}

/** Canonical identity of a label set: sorted `k=v` joined by `,` (values JSON-quoted so commas cannot collide). */
export function labelKey(labels: Record<string, string>): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`)
    .join(',');
}
