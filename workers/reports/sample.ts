/**
 * A realistic sample report, generated deterministically: the shipped
 * `payments-latency` experiment run against a shop whose payments got 3 s
 * slower for 15 s. Used by the renderer tests, by the console while it has
 * no runs, and to eyeball report.html:
 *
 *   npx tsx workers/reports/sample.ts .faultline/sample-report [double-charge]
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { EXPERIMENTS_DIR, loadExperimentFile } from '../../experiments/index.js';
import { breakerTimelines, checkBreakerExpectations } from '../analysis/breakers.js';
import { faultWindows } from '../analysis/analyse-run.js';
import { INVARIANT_DESCRIPTIONS } from '../analysis/consistency.js';
import { buildTrail } from '../analysis/trace-violations.js';
import { evaluateSlos } from '../analysis/slo.js';
import type { THistoryEventLike, TLogRecord, TMetricSample } from '../analysis/types.js';
import { deriveVerdict, REPORT_SCHEMA_VERSION, ReportSchema, type TInvariantResult, type TLoadSecondRow, type TReport, type TViolation } from './schema.js';
import { writeReport } from './write-report.js';
import { mulberry32 } from '../../core/random.js';

/** The sample is the same on every machine. */
const rng = mulberry32;

function quantile(xs: number[], q: number): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

const BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 2.5, 5, 10];

export interface TSampleOptions {
  /** Shape the data as if this bug switch were on. @defaultValue none */
  bug?: 'double-charge' | 'breaker-disabled';
  /** Load start (epoch ms). @defaultValue 2026-01-15T10:00:00Z */
  start?: number;
}

/** The simulated run's timing: when the fault is on and when the breaker is open. */
interface TSim {
  T0: number;
  loadMs: number;
  rate: number;
  fStart: number;
  fEnd: number;
  openAt: number;
  breakerless: boolean;
  isOpen: (t: number) => boolean;
}

/** What the simulation accumulates: the client history, the per-second rows, the gateway histogram and the scraped samples. */
interface TSimState {
  history: THistoryEventLike[];
  seconds: TLoadSecondRow[];
  gw: Map<string, number>;
  samples: TMetricSample[];
  index: number;
  proc: number;
}

/** One request of the mix due at `time`: what it is, how long it takes and how it ends (random draws in a fixed order). */
function drawRequest(sim: TSim, rand: () => number, time: number) {
  const { fStart, fEnd, breakerless, isOpen } = sim;
  const r = rand();
  const f = r < 0.55 ? 'browse' : r < 0.85 ? 'checkout' : 'order_status';
  let latency = f === 'browse' ? 8 + rand() * 25 : f === 'checkout' ? 60 + rand() * 90 : 12 + rand() * 20;
  let status = f === 'checkout' ? 201 : 200;
  let type: THistoryEventLike['type'] = 'ok';
  let kind: string | undefined;
  // without a breaker the backlog of slow checkouts drains for seconds after the fault
  const slowUntil = breakerless ? fEnd + 8000 : fEnd;
  if (f === 'checkout' && time >= fStart && time < slowUntil) {
    if (isOpen(time)) {
      latency = 4 + rand() * 6;
      status = 503;
      type = 'fail';
      kind = 'http_503';
    } else if (breakerless && rand() < 0.3) {
      type = 'info';
      latency = 5000;
      kind = 'timeout';
    } else {
      latency = 2500 + rand() * 300;
      status = 503;
      type = 'fail';
      kind = 'http_503';
    }
  }
  // queueing behind slow checkouts: the open model's corrected latency sees it
  const queued = time >= fStart && time < fStart + 3000 ? rand() * 900 : breakerless && time >= fStart && time < fEnd ? rand() * 2500 : 0;
  return { f, latency, status, type, kind, queued };
}

/** The samples scraped at the end of second `s`: the gateway's histogram so far and each orders instance's breaker state. */
function scrapeSecond(sim: TSim, st: TSimState, s: number): void {
  const { T0, isOpen } = sim;
  const t = T0 + s * 1000 + 999;
  for (const [k, v] of st.gw) {
    const [route, method, status, le] = k.split('|');
    st.samples.push({
      t,
      instance: 'gateway-0',
      service: 'gateway',
      metric: 'http_server_request_duration_seconds_bucket',
      labels: { service: 'gateway', route, method, status, le },
      value: v,
    });
  }
  for (const inst of ['orders-0', 'orders-1']) {
    const tt = T0 + s * 1000 + (inst === 'orders-0' ? 400 : 700);
    const open = isOpen(tt + (inst === 'orders-1' ? 400 : 0));
    st.samples.push({
      t: tt,
      instance: inst,
      service: 'orders',
      metric: 'circuit_breaker_state',
      labels: { service: 'orders', breaker: 'orders->payments' },
      value: open ? 1 : 0,
    });
  }
}

/** Second `s` of the load: its requests (history, gateway histogram), its row, and what is scraped at its end. */
function simulateSecond(sim: TSim, rand: () => number, st: TSimState, s: number, fault: { at: number; duration: number }): void {
  const { T0, rate, breakerless } = sim;
  const lat: number[] = [];
  const clat: number[] = [];
  const errors: Record<string, number> = {};
  let done = 0;
  for (let i = 0; i < rate; i++) {
    const time = T0 + s * 1000 + (i * 1000) / rate;
    const { f, latency, status, type, kind, queued } = drawRequest(sim, rand, time);
    const key = `k-${st.index}`;
    st.history.push({ index: st.index++, type: 'invoke', f, process: st.proc, time, value: f === 'checkout' ? { idempotencyKey: key } : {} });
    const end = time + latency + queued;
    st.history.push({
      index: st.index++,
      type,
      f,
      process: st.proc++,
      time: end,
      value:
        type === 'info'
          ? { error: 'timeout' }
          : { status, ...(f === 'checkout' && status === 201 ? { orderId: String(9_000_000 + st.index), totalCents: 1299 } : {}) },
      latencyMs: latency,
      correctedLatencyMs: latency + queued,
    });
    lat.push(latency);
    clat.push(latency + queued);
    if (kind) errors[kind] = (errors[kind] ?? 0) + 1;
    done++;
    // the gateway's histogram as prom-client would expose it
    if (type !== 'info') {
      const route = f === 'browse' ? '/products' : f === 'checkout' ? '/checkout' : '/orders/:id';
      const method = f === 'checkout' ? 'POST' : 'GET';
      for (const le of [...BUCKETS.map(String), '+Inf']) {
        if (le !== '+Inf' && latency / 1000 > Number(le)) continue;
        const k = `${route}|${method}|${status}|${le}`;
        st.gw.set(k, (st.gw.get(k) ?? 0) + 1);
      }
    }
  }
  st.seconds.push({
    t: T0 + s * 1000,
    rps: done,
    errorsByKind: errors,
    p50: quantile(lat, 0.5),
    p95: quantile(lat, 0.95),
    p99: quantile(lat, 0.99),
    cp50: quantile(clat, 0.5),
    cp95: quantile(clat, 0.95),
    cp99: quantile(clat, 0.99),
    activeVus: Math.round(rate * (quantile(clat, 0.5) / 1000) + 2),
    dropped: breakerless && s * 1000 > fault.at + 3000 && s * 1000 < fault.at + fault.duration ? 3 : 0,
    target: rate,
  });
  scrapeSecond(sim, st, s);
}

/** The breaker's log lines as orders writes them (none without a breaker). */
function breakerLogs(sim: TSim): TLogRecord[] {
  const { openAt, fEnd } = sim;
  return sim.breakerless
    ? []
    : [
        {
          time: openAt,
          service: 'orders',
          instance: 'orders-0',
          msg: 'circuit breaker orders->payments opened',
          fields: { breaker: 'orders->payments', state: 'open' },
        },
        {
          time: fEnd + 1200,
          service: 'orders',
          instance: 'orders-0',
          msg: 'circuit breaker orders->payments half-open',
          fields: { breaker: 'orders->payments', state: 'half_open' },
        },
        {
          time: fEnd + 1260,
          service: 'orders',
          instance: 'orders-0',
          msg: 'circuit breaker orders->payments closed',
          fields: { breaker: 'orders->payments', state: 'closed' },
        },
      ];
}

/** The double-charge switch's findings: two fresh double captures (one with its trail) and one from before the run. */
function doubleChargeViolations(fStart: number): TViolation[] {
  const at = (ms: number) => new Date(fStart + ms);
  // the trail as the analysis builds it, from the rows the shop would hold
  const trail = buildTrail({
    orders: [{ id: '9000123', idempotency_key: 'k-9000123', total_cents: 1299, status: 'confirmed', created_at: at(310), updated_at: at(2702) }],
    orderEvents: [
      { order_id: '9000123', from_status: null, to_status: 'pending', at: at(311) },
      { order_id: '9000123', from_status: 'pending', to_status: 'confirmed', at: at(2702) },
    ],
    sagas: [{ order_id: '9000123', state: 'completed', step: 'done', deadline_at: at(30_310), updated_at: at(2702) }],
    outbox: [{ id: '7781', topic: 'order.confirmed', aggregate_id: '9000123', created_at: at(2703), published_at: at(2743) }],
    reservations: [{ id: '8120', order_id: '9000123', product_id: '7', qty: 1, status: 'committed', created_at: at(340), updated_at: at(2701) }],
    payments: [
      { id: '4411', order_id: '9000123', idempotency_key: 'co-9000123', amount_cents: 1299, status: 'captured', created_at: at(2410) },
      { id: '4417', order_id: '9000123', idempotency_key: 'co-9000123-retry1', amount_cents: 1299, status: 'captured', created_at: at(2650) },
    ],
    refunds: [],
    idempotency: [
      { key: 'co-9000123', status_code: null, created_at: at(400) },
      { key: 'co-9000123-retry1', status_code: 201, created_at: at(2640) },
    ],
    logs: [
      {
        time: at(2350),
        level: 'warn',
        service: 'orders',
        instance: 'orders-0',
        msg: 'charge failed; compensating',
        fields: { orderId: '9000123', err: 'timeout after 2000 ms', kind: 'timeout' },
      },
    ],
  });
  return [
    {
      kind: 'double-capture',
      message: 'order 9000123 charged 2 times: payments 4411 (key co-9000123), 4417 (key co-9000123-retry1)',
      ids: ['9000123', '4411', '4417'],
      rows: [{ order_id: '9000123', captures: 2, payment_ids: ['4411', '4417'], amounts: [1299, 1299], keys: ['co-9000123', 'co-9000123-retry1'] }],
      events: [],
      trail,
    },
    {
      kind: 'double-capture',
      message: 'order 9000187 charged 2 times: payments 4502 (key co-9000187), 4506 (key co-9000187-retry1)',
      ids: ['9000187', '4502', '4506'],
      rows: [{ order_id: '9000187', captures: 2, payment_ids: ['4502', '4506'], amounts: [2598, 2598], keys: ['co-9000187', 'co-9000187-retry1'] }],
      events: [],
    },
    {
      kind: 'double-capture',
      message: 'order 8000042 charged 2 times: payments 3001 (key co-8000042), 3002 (key co-8000042-retry1)',
      ids: ['8000042', '3001', '3002'],
      rows: [{ order_id: '8000042', captures: 2, payment_ids: ['3001', '3002'] }],
      events: [],
      preExisting: true,
    },
  ];
}

export async function sampleReport(opts: TSampleOptions = {}): Promise<TReport> {
  const experiment = await loadExperimentFile(path.join(EXPERIMENTS_DIR, 'payments-latency.yaml'));
  const rand = rng(42);
  const T0 = opts.start ?? Date.parse('2026-01-15T10:00:00Z');
  const loadMs = experiment.load.duration ?? 40_000;
  const fault = experiment.faults[0];
  const fStart = T0 + fault.at + 180;
  const fEnd = fStart + fault.duration;
  const breakerless = opts.bug === 'breaker-disabled';
  // breaker opens after 5 consecutive timeouts (~2 s into the fault), probes every 2 s
  const openAt = fStart + 2000;
  const isOpen = (t: number) => !breakerless && t >= openAt && t < fEnd + 1200 && !((t - openAt) % 2000 < 50 && t < fEnd);
  const sim: TSim = { T0, loadMs, rate: experiment.load.rate ?? 20, fStart, fEnd, openAt, breakerless, isOpen };

  const st: TSimState = { history: [], seconds: [], gw: new Map(), samples: [], index: 0, proc: 0 };
  for (let s = 0; s < loadMs / 1000; s++) simulateSecond(sim, rand, st, s, fault);
  const { history, seconds, samples } = st;
  const loadEnd = T0 + loadMs;
  // settling: the last sagas finish 1.8 s after the load (polled up to the experiment's quiescence)
  const settle = { settled: true, waitedMs: 1800, maxMs: experiment.quiescence, detail: 'settled' };
  const endedAt = loadEnd + settle.waitedMs;
  const logs = breakerLogs(sim);
  const faults = faultWindows(experiment, [{ name: fault.name, appliedAt: fStart, removedAt: fEnd }]);
  const slos = evaluateSlos({ slos: experiment.steady_state.slos, history, samples, runStart: T0, runEnd: loadEnd });
  const timelines = breakerTimelines(samples, logs, faults, endedAt);
  const expectations = checkBreakerExpectations(
    experiment.expectations.breakers,
    timelines,
    faults.map((f) => ({ ...f, duration: f.plannedDurationMs })),
    endedAt,
  );
  const invariants: TInvariantResult[] = experiment.expectations.invariants.map((name) => ({
    name,
    description: INVARIANT_DESCRIPTIONS[name],
    pass: true,
    checked: 212,
    violations: [],
  }));
  if (opts.bug === 'double-charge') {
    const inv = invariants.find((i) => i.name === 'payment-exactly-once')!;
    inv.pass = false;
    inv.violations = doubleChargeViolations(fStart);
    inv.preExisting = 1;
  }
  const partial = { slos, breakers: { timelines, expectations }, invariants };
  const { verdict, reason } = deriveVerdict(partial);
  return ReportSchema.parse({
    schemaVersion: REPORT_SCHEMA_VERSION,
    run: {
      id: 'run_sample_0001',
      experiment: experiment.name,
      description: experiment.description,
      target: 'shop',
      startedAt: T0,
      loadEndedAt: loadEnd,
      endedAt,
      tags: experiment.tags,
      bugs: opts.bug ? [opts.bug] : [],
    },
    verdict,
    reason,
    load: { scenario: experiment.load.scenario, engine: 'builtin', requests: history.length / 2, dropped: seconds.reduce((a, s) => a + s.dropped, 0) },
    faults,
    settle,
    ...(opts.bug === 'double-charge' ? { baseline: { capturedAt: T0 - 1200, findings: 1 } } : {}),
    slos,
    breakers: { timelines, expectations },
    invariants,
    infoOps: [],
    series: { seconds },
    generatedAt: endedAt + 1500,
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dir = process.argv[2] ?? '.faultline/sample-report';
  const bug = process.argv[3] as TSampleOptions['bug'];
  const files = await writeReport(await sampleReport({ bug }), dir);
  process.stdout.write(`${Object.values(files).join('\n')}\n`);
}
