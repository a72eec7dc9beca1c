/**
 * Builds the Grafana dashboards in dashboards/grafana/dashboards/*.json from
 * a few panel helpers, so every query is written once and every metric name
 * sits in one place (the test cross-checks them against a live /metrics).
 *
 *   tsx dashboards/grafana/generate.ts     # rewrites the JSON files
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

type Json = Record<string, unknown>;
const PROM = { type: 'prometheus', uid: 'faultline-prometheus' };
const PG = { type: 'grafana-postgresql-datasource', uid: 'faultline-postgres' };

let nextId = 1;
interface PanelOpts {
  title: string;
  exprs: { expr: string; legend: string }[];
  unit?: string;
  w?: number;
  h?: number;
  type?: 'timeseries' | 'state-timeline' | 'stat';
  description?: string;
  mappings?: Json[];
  stack?: boolean;
}

function panel(o: PanelOpts, x: number, y: number): Json {
  const type = o.type ?? 'timeseries';
  return {
    id: nextId++,
    type,
    title: o.title,
    description: o.description ?? '',
    datasource: PROM,
    gridPos: { x, y, w: o.w ?? 12, h: o.h ?? 8 },
    targets: o.exprs.map((e, i) => ({
      refId: String.fromCharCode(65 + i),
      datasource: PROM,
      expr: e.expr,
      legendFormat: e.legend,
    })),
    fieldConfig: {
      defaults: {
        unit: o.unit ?? 'short',
        ...(o.mappings ? { mappings: o.mappings } : {}),
        ...(type === 'timeseries'
          ? {
              custom: { drawStyle: 'line', lineWidth: 1, fillOpacity: o.stack ? 30 : 10, showPoints: 'never', stacking: { mode: o.stack ? 'normal' : 'none' } },
            }
          : {}),
      },
      overrides: [],
    },
    options:
      type === 'state-timeline'
        ? { showValue: 'never', mergeValues: true, rowHeight: 0.8 }
        : { legend: { displayMode: 'table', placement: 'right', calcs: ['lastNotNull', 'max'] }, tooltip: { mode: 'multi' } },
  };
}

function grid(panels: PanelOpts[]): Json[] {
  const out: Json[] = [];
  let x = 0;
  let y = 0;
  let rowH = 0;
  for (const p of panels) {
    const w = p.w ?? 12;
    if (x + w > 24) {
      x = 0;
      y += rowH;
      rowH = 0;
    }
    out.push(panel(p, x, y));
    x += w;
    rowH = Math.max(rowH, p.h ?? 8);
  }
  return out;
}

const serviceVar = {
  name: 'service',
  type: 'query',
  datasource: PROM,
  query: { query: 'label_values(http_server_request_duration_seconds_count, service)', refId: 'service' },
  definition: 'label_values(http_server_request_duration_seconds_count, service)',
  includeAll: true,
  multi: true,
  current: { text: 'All', value: '$__all' },
  refresh: 2,
};

/** Fault windows from faultline's fault ledger, on every shop dashboard. */
const faultAnnotations = {
  list: [
    {
      name: 'Faults',
      datasource: PG,
      enable: true,
      iconColor: 'rgba(255, 96, 96, 0.6)',
      target: {
        rawQuery: true,
        format: 'table',
        rawSql:
          "SELECT extract(epoch from applied_at) * 1000 AS time, extract(epoch from coalesce(removed_at, now())) * 1000 AS timeend, type || ' on ' || target AS text, coalesce(run_id, 'manual') AS tags FROM faults WHERE $__timeFilter(applied_at) ORDER BY applied_at",
      },
    },
  ],
};

function dashboard(uid: string, title: string, panels: PanelOpts[], extra: Json = {}): Json {
  nextId = 1;
  return {
    uid,
    title,
    tags: ['faultline'],
    timezone: 'browser',
    schemaVersion: 39,
    version: 1,
    editable: true,
    refresh: '5s',
    time: { from: 'now-30m', to: 'now' },
    annotations: faultAnnotations,
    templating: { list: [serviceVar] },
    panels: grid(panels),
    ...extra,
  };
}

const S = 'service=~"$service"';
const RATE = '$__rate_interval';
const breakerMappings = [
  {
    type: 'value',
    options: {
      '0': { text: 'closed', color: 'green', index: 0 },
      '1': { text: 'open', color: 'red', index: 1 },
      '2': { text: 'half-open', color: 'yellow', index: 2 },
    },
  },
];

/** RED per service and route: rates, 5xx ratio, latency quantiles, outbound calls. */
function shopRedPanels(): PanelOpts[] {
  return [
    {
      title: 'Requests per second by route',
      unit: 'reqps',
      exprs: [
        {
          expr: `sum by (service, method, route) (rate(http_server_request_duration_seconds_count{${S}}[${RATE}]))`,
          legend: '{{service}} {{method}} {{route}}',
        },
      ],
    },
    {
      title: 'Error ratio (5xx) by route',
      unit: 'percentunit',
      exprs: [
        {
          expr: `sum by (service, method, route) (rate(http_server_request_duration_seconds_count{${S},status=~"5.."}[${RATE}])) / sum by (service, method, route) (rate(http_server_request_duration_seconds_count{${S}}[${RATE}]))`,
          legend: '{{service}} {{method}} {{route}}',
        },
      ],
    },
    {
      title: 'Latency p99 by route',
      unit: 's',
      exprs: [
        {
          expr: `histogram_quantile(0.99, sum by (service, method, route, le) (rate(http_server_request_duration_seconds_bucket{${S}}[${RATE}])))`,
          legend: '{{service}} {{method}} {{route}}',
        },
      ],
    },
    {
      title: 'Latency p50 / p95 / p99 (all routes)',
      unit: 's',
      exprs: [0.5, 0.95, 0.99].map((q) => ({
        expr: `histogram_quantile(${q}, sum by (service, le) (rate(http_server_request_duration_seconds_bucket{${S}}[${RATE}])))`,
        legend: `{{service}} p${q * 100}`,
      })),
    },
    {
      title: 'Responses by status',
      unit: 'reqps',
      stack: true,
      exprs: [{ expr: `sum by (status) (rate(http_server_request_duration_seconds_count{${S}}[${RATE}]))`, legend: '{{status}}' }],
    },
    {
      title: 'Outbound calls by target and outcome',
      unit: 'reqps',
      stack: true,
      exprs: [
        {
          expr: `sum by (service, target, outcome) (rate(http_client_request_duration_seconds_count{${S}}[${RATE}]))`,
          legend: '{{service}}→{{target}} {{outcome}}',
        },
      ],
    },
    {
      title: 'Outbound call latency p99 by target',
      unit: 's',
      exprs: [
        {
          expr: `histogram_quantile(0.99, sum by (service, target, le) (rate(http_client_request_duration_seconds_bucket{${S}}[${RATE}])))`,
          legend: '{{service}}→{{target}}',
        },
      ],
    },
    {
      title: 'Retries and rate-limited requests',
      unit: 'reqps',
      exprs: [
        { expr: `sum by (service, target) (rate(http_client_retries_total{${S}}[${RATE}]))`, legend: 'retries {{service}}→{{target}}' },
        { expr: `sum by (service) (rate(gateway_rate_limited_total[${RATE}]))`, legend: 'rate-limited {{service}}' },
      ],
    },
  ];
}

/** Circuit breakers: state timeline, transitions, rejections. */
function breakerPanels(): PanelOpts[] {
  return [
    {
      title: 'Breaker state',
      type: 'state-timeline',
      w: 24,
      h: 10,
      mappings: breakerMappings,
      exprs: [{ expr: `max by (service, breaker) (circuit_breaker_state{${S}})`, legend: '{{service}} {{breaker}}' }],
    },
    {
      title: 'Transitions (open / half-open / close)',
      unit: 'short',
      exprs: [
        {
          expr: `sum by (breaker, event) (increase(circuit_breaker_events_total{${S},event=~"open|half_open|close"}[${RATE}]))`,
          legend: '{{breaker}} {{event}}',
        },
      ],
    },
    {
      title: 'Calls rejected by an open breaker',
      unit: 'reqps',
      exprs: [{ expr: `sum by (service, breaker) (rate(circuit_breaker_events_total{${S},event="rejected"}[${RATE}]))`, legend: '{{service}} {{breaker}}' }],
    },
    {
      title: 'Breaker failures vs successes',
      unit: 'reqps',
      stack: true,
      exprs: [
        { expr: `sum by (breaker, event) (rate(circuit_breaker_events_total{${S},event=~"success|failure"}[${RATE}]))`, legend: '{{breaker}} {{event}}' },
      ],
    },
    {
      title: 'Instances with an open breaker',
      type: 'stat',
      unit: 'short',
      exprs: [{ expr: `count(circuit_breaker_state{${S}} == 1) or vector(0)`, legend: 'open' }],
    },
  ];
}

/** Sagas, outbox and inbox. */
function sagaOutboxPanels(): PanelOpts[] {
  return [
    {
      title: 'Saga transitions by target state',
      unit: 'ops',
      stack: true,
      exprs: [{ expr: `sum by (to) (rate(saga_transitions_total{${S}}[${RATE}]))`, legend: '→ {{to}}' }],
    },
    { title: 'Open (non-terminal) sagas', unit: 'short', exprs: [{ expr: `sum by (service) (saga_open{${S}})`, legend: '{{service}}' }] },
    { title: 'Outbox pending rows', unit: 'short', exprs: [{ expr: `sum by (service) (outbox_pending{${S}})`, legend: '{{service}}' }] },
    {
      title: 'Outbox relayed per second by topic',
      unit: 'ops',
      exprs: [{ expr: `sum by (topic) (rate(outbox_published_total{${S}}[${RATE}]))`, legend: '{{topic}}' }],
    },
    {
      title: 'Inbox messages by result (duplicates = at-least-once redeliveries)',
      unit: 'ops',
      stack: true,
      w: 24,
      exprs: [{ expr: `sum by (consumer, result) (rate(inbox_messages_total{${S}}[${RATE}]))`, legend: '{{consumer}} {{result}}' }],
    },
  ];
}

/** faultline's own runs, faults and collectors. */
function runsPanels(): PanelOpts[] {
  return [
    { title: 'Runs by verdict', type: 'stat', w: 8, unit: 'short', exprs: [{ expr: 'sum by (verdict) (faultline_runs_total)', legend: '{{verdict}}' }] },
    { title: 'Faults active now', type: 'stat', w: 8, unit: 'short', exprs: [{ expr: 'sum(faultline_faults_active)', legend: 'active' }] },
    {
      title: 'Collector lag',
      type: 'stat',
      w: 8,
      unit: 's',
      exprs: [{ expr: 'max by (collector) (faultline_collector_lag_seconds)', legend: '{{collector}}' }],
    },
    {
      title: 'Run verdicts over time',
      unit: 'short',
      stack: true,
      exprs: [{ expr: 'sum by (verdict) (increase(faultline_runs_total[$__rate_interval]))', legend: '{{verdict}}' }],
    },
    { title: 'Active faults by type', unit: 'short', stack: true, exprs: [{ expr: 'sum by (type) (faultline_faults_active)', legend: '{{type}}' }] },
    {
      title: 'Gateway error ratio during runs',
      unit: 'percentunit',
      w: 24,
      exprs: [
        {
          expr: `sum(rate(http_server_request_duration_seconds_count{service="gateway",status=~"5.."}[${RATE}])) / sum(rate(http_server_request_duration_seconds_count{service="gateway"}[${RATE}]))`,
          legend: 'gateway 5xx ratio',
        },
      ],
    },
  ];
}

export function buildDashboards(): Record<string, Json> {
  return {
    'shop-red.json': dashboard('faultline-shop-red', 'Shop — RED per service and route', shopRedPanels()),
    'breakers.json': dashboard('faultline-breakers', 'Shop — circuit breakers', breakerPanels()),
    'saga-outbox.json': dashboard('faultline-saga-outbox', 'Shop — sagas and outbox', sagaOutboxPanels()),
    'faultline-runs.json': dashboard('faultline-runs', 'faultline — runs, faults and collectors', runsPanels()),
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'dashboards');
  for (const [file, d] of Object.entries(buildDashboards())) {
    writeFileSync(path.join(dir, file), `${JSON.stringify(d, null, 2)}\n`);
    console.log(`wrote dashboards/grafana/dashboards/${file}`);
  }
}
