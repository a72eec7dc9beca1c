/**
 * k6-style end-of-test text summary (pure): thresholds with ✓/✗ and their
 * observed values, then every metric with dots, as k6 prints it.
 */
import type { TK6SummaryMetric, TLoadResult } from './types.js';

function ms(v: number): string {
  if (v >= 60_000) return `${(v / 60_000).toFixed(2)}m`;
  if (v >= 1000) return `${(v / 1000).toFixed(2)}s`;
  if (v >= 1) return `${v.toFixed(2)}ms`;
  return `${(v * 1000).toFixed(2)}µs`;
}

export function formatMetricValues(m: TK6SummaryMetric): string {
  const v = m.values;
  switch (m.type) {
    case 'trend':
      return Object.entries(v)
        .map(([k, x]) => `${k}=${m.contains === 'time' ? ms(x) : x.toFixed(2)}`)
        .join(' ');
    case 'rate':
      return `${(v.rate * 100).toFixed(2)}% ${v.passes} out of ${v.passes + v.fails}`;
    case 'counter':
      return `${v.count} ${v.rate.toFixed(2)}/s`;
    case 'gauge':
      return `${v.value} min=${v.min} max=${v.max}`;
  }
}

function observed(m: TK6SummaryMetric | undefined, expression: string): string {
  if (!m) return 'no data';
  const agg = /^\s*(p\([^)]*\)|[a-z]+)/.exec(expression)?.[1]?.replace(/\s+/g, '') ?? '';
  const v = m.values[agg] ?? (agg === 'med' ? m.values.med : undefined);
  if (v === undefined) return '';
  return `${agg}=${m.type === 'trend' && m.contains === 'time' ? ms(v) : Number.isInteger(v) ? v : v.toFixed(4)}`;
}

export function formatSummary(r: TLoadResult, opts: { scenario?: string } = {}): string {
  const lines: string[] = [];
  const dur = ((r.endedAt - r.startedAt) / 1000).toFixed(1);
  lines.push(
    '',
    `  ${opts.scenario ? `scenario ${opts.scenario}, ` : ''}engine ${r.engine}, ${dur}s${r.abortReason ? `, stopped early: ${r.abortReason}` : ''}`,
    '',
  );
  if (r.thresholds.length) {
    lines.push('  █ THRESHOLDS', '');
    const byMetric = new Map<string, typeof r.thresholds>();
    for (const t of r.thresholds) byMetric.set(t.metric, [...(byMetric.get(t.metric) ?? []), t]);
    for (const [metric, list] of byMetric) {
      lines.push(`    ${metric}`);
      for (const t of list) lines.push(`    ${t.ok ? '✓' : '✗'} '${t.expression}' ${observed(r.metrics[metric], t.expression)}`);
      lines.push('');
    }
  }
  lines.push('  █ TOTAL RESULTS', '');
  const names = Object.keys(r.metrics).sort();
  const width = Math.max(30, ...names.map((n) => n.length + 4));
  for (const name of names) {
    const m = r.metrics[name];
    const failed = m.thresholds && Object.values(m.thresholds).some((t) => !t.ok);
    const mark = m.thresholds ? (failed ? '✗ ' : '✓ ') : '  ';
    lines.push(`    ${mark}${name}${'.'.repeat(Math.max(2, width - name.length))}: ${formatMetricValues(m)}`);
  }
  if (r.engine === 'builtin' && r.metrics.http_req_corrected_duration && r.metrics.http_req_duration) {
    lines.push(
      '',
      "    http_req_corrected_duration is measured from each iteration's intended start (no coordinated omission);",
      "    http_req_duration is k6's measure (send → response).",
    );
  }
  lines.push('', `  exit status ${r.exitCode}${r.exitCode === 99 ? ' (thresholds crossed)' : r.exitCode === 105 ? ' (aborted)' : ''}`, '');
  return lines.join('\n');
}
