/**
 * How long the analysis and the report take for a long run: a synthetic
 * 1-hour run at 30 req/s (216 000 history events), gateway histograms
 * scraped every second, two breaker gauges, one 10-minute fault. Prints
 * figures; asserts nothing.
 *
 *   npx tsx bench/analysis/analysis.ts [--minutes 60] [--rate 30]
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { TSlo } from '../../experiments/index.js';
import { breakerTimelines, evaluateSlos, type THistoryEventLike, type TMetricSample } from '../../workers/analysis/index.js';
import { renderHtml, writeReport, type TReport } from '../../workers/reports/index.js';
import { sampleReport } from '../../workers/reports/sample.js';

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const minutes = arg('minutes', 60);
const rate = arg('rate', 30);
const seconds = minutes * 60;
const T0 = Date.parse('2026-01-15T10:00:00Z');
const fault = { name: 'f', appliedAt: T0 + 600_000, removedAt: T0 + 1_200_000 };

const history: THistoryEventLike[] = [];
const counts = new Map<string, number>();
const samples: TMetricSample[] = [];
const LE = ['0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '10', '+Inf'];
let index = 0;
for (let s = 0; s < seconds; s++) {
  const inFault = T0 + s * 1000 >= fault.appliedAt && T0 + s * 1000 < fault.removedAt;
  for (let i = 0; i < rate; i++) {
    const time = T0 + s * 1000 + (i * 1000) / rate;
    const checkout = i % 4 === 0;
    const latency = checkout ? (inFault ? 1800 : 90) : 15;
    const status = checkout && inFault && i % 8 === 0 ? 503 : checkout ? 201 : 200;
    history.push({ index: index++, type: 'invoke', f: checkout ? 'checkout' : 'browse', process: i, time, value: {} });
    history.push({
      index: index++,
      type: status >= 500 ? 'info' : 'ok',
      f: checkout ? 'checkout' : 'browse',
      process: i,
      time: time + latency,
      value: { status },
      latencyMs: latency,
      correctedLatencyMs: latency,
    });
    const route = checkout ? '/checkout' : '/products';
    for (const le of LE)
      if (le === '+Inf' || latency / 1000 <= Number(le)) counts.set(`${route}|${status}|${le}`, (counts.get(`${route}|${status}|${le}`) ?? 0) + 1);
  }
  for (const [k, v] of counts) {
    const [route, status, le] = k.split('|');
    samples.push({
      t: T0 + s * 1000 + 999,
      instance: 'gateway-0',
      service: 'gateway',
      metric: 'http_server_request_duration_seconds_bucket',
      labels: { service: 'gateway', route, method: route === '/checkout' ? 'POST' : 'GET', status, le },
      value: v,
    });
  }
  for (const inst of ['orders-0', 'orders-1'])
    samples.push({
      t: T0 + s * 1000 + 500,
      instance: inst,
      service: 'orders',
      metric: 'circuit_breaker_state',
      labels: { service: 'orders', breaker: 'orders->payments' },
      value: inFault && s % 10 !== 0 ? 1 : 0,
    });
}
const slos: TSlo[] = [
  { name: 'co-avail', route: 'POST /checkout', sli: 'availability', objective: 99.5, window: 30 * 86_400_000 },
  { name: 'co-lat', route: 'POST /checkout', sli: 'latency', threshold_ms: 1000, objective: 99, window: 30 * 86_400_000 },
  { name: 'browse', route: 'GET /products', sli: 'availability', objective: 99.9, window: 30 * 86_400_000 },
];

const time = <T>(fn: () => T): [T, number] => {
  const t = performance.now();
  const v = fn();
  return [v, performance.now() - t];
};
const [sloResults, sloMs] = time(() => evaluateSlos({ slos, history, samples, runStart: T0, runEnd: T0 + seconds * 1000 }));
const [timelines, brMs] = time(() => breakerTimelines(samples, [], [fault], T0 + seconds * 1000));

// report of the same size: the sample report stretched to the run's seconds
const base = await sampleReport();
const report: TReport = {
  ...base,
  slos: sloResults,
  breakers: { timelines, expectations: [] },
  series: {
    seconds: Array.from({ length: seconds }, (_, s) => ({ ...base.series.seconds[s % base.series.seconds.length], t: T0 + s * 1000 })),
  },
  run: { ...base.run, startedAt: T0, endedAt: T0 + seconds * 1000 },
};
const [html, htmlMs] = time(() => renderHtml(report));
const dir = await mkdtemp(path.join(os.tmpdir(), 'fl-bench-'));
const t = performance.now();
const files = await writeReport(report, dir);
const writeMs = performance.now() - t;
const sizes = await Promise.all(Object.values(files).map(async (f) => `${path.basename(f)} ${((await stat(f)).size / 1024).toFixed(0)} KiB`));
await rm(dir, { recursive: true, force: true });

console.log(`run: ${minutes} min at ${rate} req/s → ${history.length} history events, ${samples.length} metric samples`);
console.log(`evaluateSlos (3 SLOs × client corrected, k6-style, server): ${sloMs.toFixed(0)} ms`);
console.log(`breakerTimelines (${timelines[0]?.segments.length ?? 0} segments): ${brMs.toFixed(0)} ms`);
console.log(`renderHtml: ${htmlMs.toFixed(0)} ms, ${(html.length / 1024).toFixed(0)} KiB`);
console.log(`writeReport (validate + 4 files): ${writeMs.toFixed(0)} ms — ${sizes.join(', ')}`);
console.log(`SLIs: ${sloResults.map((r) => `${r.name} ${r.figures.map((f) => f.sli?.toFixed(3)).join('/')}`).join('; ')}`);
