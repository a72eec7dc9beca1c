/**
 * Dashboards, Prometheus config and Kibana objects: structure checks, and a
 * cross-check that every metric a Grafana panel queries is one the shop (or
 * faultline itself) really exports, collected from live /metrics scrapes.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { startTestShop, type TTestShop } from '../shop/index.js';
import { createTestDatabase } from '../db/testing.js';
import { createSelfMetrics } from '../workers/self-metrics.js';
import { buildDashboards } from './grafana/generate.js';
import { indexTemplate } from '../workers/logstore/elasticsearch.js';

const here = path.dirname(new URL(import.meta.url).pathname);
const dashDir = path.join(here, 'grafana', 'dashboards');

const PROMQL_WORDS = new Set([
  'sum',
  'rate',
  'increase',
  'histogram_quantile',
  'max',
  'min',
  'avg',
  'count',
  'by',
  'without',
  'or',
  'and',
  'unless',
  'vector',
  'le',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'offset',
  'irate',
  'delta',
  'abs',
  'clamp_min',
]);

/** Metric names in a PromQL expression: identifiers followed by `{`, `[` or `)`/space that are not functions or labels. */
export function metricNames(expr: string): string[] {
  const noStrings = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, '{}')
    .replace(/\[[^\]]*\]/g, '[]');
  const out = new Set<string>();
  for (const m of noStrings.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const w = m[0];
    const after = noStrings[m.index! + w.length];
    if (PROMQL_WORDS.has(w) || after === '(') continue;
    // label names inside `by (...)` groups
    const before = noStrings.slice(0, m.index).trimEnd();
    if (/\b(by|without|on|ignoring)\s*\([^)]*$/.test(before)) continue;
    if (/^\d/.test(w)) continue;
    out.add(w);
  }
  return [...out];
}

/** A histogram exports `<name>_bucket/_count/_sum`; queries use those. */
function baseName(n: string): string {
  return n.replace(/_(bucket|count|sum)$/, '');
}

function exportedFamilies(text: string): Set<string> {
  const s = new Set<string>();
  for (const line of text.split('\n')) {
    const m = /^# TYPE (\S+) /.exec(line);
    if (m) s.add(m[1]);
  }
  return s;
}

describe('Grafana dashboards', () => {
  let shop: TTestShop;
  let exported: Set<string>;
  let dbDrop: () => Promise<void>;

  beforeAll(async () => {
    shop = await startTestShop();
    // prom-client writes `# TYPE` for every registered family, observed or not,
    // so one scrape per instance lists everything the shop can export.
    exported = new Set();
    for (const inst of shop.instances) {
      const r = await fetch(`${inst.url}/metrics`);
      expect(r.status).toBe(200);
      for (const f of exportedFamilies(await r.text())) exported.add(f);
    }
    const tdb = await createTestDatabase();
    dbDrop = tdb.drop;
    for (const f of exportedFamilies(await createSelfMetrics(tdb.db).metrics())) exported.add(f);
  });

  afterAll(async () => {
    await shop?.stop();
    await dbDrop?.();
  });

  it('the committed JSON is what generate.ts builds', () => {
    const built = buildDashboards();
    expect(
      readdirSync(dashDir)
        .filter((f) => f.endsWith('.json'))
        .sort(),
    ).toEqual(Object.keys(built).sort());
    for (const [file, d] of Object.entries(built)) {
      expect(JSON.parse(readFileSync(path.join(dashDir, file), 'utf8')), `${file} is stale: run tsx dashboards/grafana/generate.ts`).toEqual(d);
    }
  });

  it('every panel is well formed and uses a provisioned datasource', () => {
    const ds = parse(readFileSync(path.join(here, 'grafana/provisioning/datasources/datasources.yml'), 'utf8')) as { datasources: { uid: string }[] };
    const uids = new Set(ds.datasources.map((d) => d.uid));
    for (const file of readdirSync(dashDir)) {
      const d = JSON.parse(readFileSync(path.join(dashDir, file), 'utf8'));
      expect(d.uid, file).toMatch(/^faultline-/);
      const ids = new Set<number>();
      for (const p of d.panels) {
        expect(ids.has(p.id), `${file}: duplicate panel id ${p.id}`).toBe(false);
        ids.add(p.id);
        expect(p.gridPos.x + p.gridPos.w).toBeLessThanOrEqual(24);
        expect(uids.has(p.datasource.uid), `${file}/${p.title}`).toBe(true);
        expect(p.targets.length).toBeGreaterThan(0);
      }
      for (const a of d.annotations.list) expect(uids.has(a.datasource.uid)).toBe(true);
    }
  });

  it('every metric a panel queries is exported by the shop or faultline', () => {
    const missing: string[] = [];
    let checked = 0;
    for (const file of readdirSync(dashDir)) {
      const d = JSON.parse(readFileSync(path.join(dashDir, file), 'utf8'));
      for (const p of d.panels)
        for (const t of p.targets)
          for (const n of metricNames(t.expr)) {
            checked++;
            if (!exported.has(baseName(n)) && !exported.has(n)) missing.push(`${file} / ${p.title}: ${n}`);
          }
    }
    expect(checked).toBeGreaterThan(20);
    expect(missing).toEqual([]);
  });

  it('the metric-name extractor finds names and skips functions and labels', () => {
    expect(metricNames('histogram_quantile(0.99, sum by (service, le) (rate(http_server_request_duration_seconds_bucket{service=~"$service"}[5m])))')).toEqual([
      'http_server_request_duration_seconds_bucket',
    ]);
    expect(metricNames('count(circuit_breaker_state{a="b"} == 1) or vector(0)')).toEqual(['circuit_breaker_state']);
  });
});

describe('Prometheus config', () => {
  it('passes promtool check config with the committed SLO rules', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'fl-prom-'));
    cpSync(path.join(here, 'prometheus'), dir, { recursive: true });
    const cfg = readFileSync(path.join(dir, 'prometheus.yml'), 'utf8').replace('/etc/prometheus/rules', path.join(dir, 'rules'));
    writeFileSync(path.join(dir, 'prometheus.yml'), cfg);
    const out = execFileSync('promtool', ['check', 'config', 'prometheus.yml'], { cwd: dir, encoding: 'utf8' });
    expect(out).toMatch(/SUCCESS: prometheus.yml is valid/);
    expect(out).toMatch(/SUCCESS: 1 rule files found/);
    expect(out).toMatch(/SUCCESS: \d+ rules found/);
  });
});

describe('Kibana saved objects', () => {
  it('are valid NDJSON: an index pattern over the log indices and searches that reference it', () => {
    const lines = readFileSync(path.join(here, 'kibana', 'saved-objects.ndjson'), 'utf8')
      .trim()
      .split('\n');
    const objs = lines.map(
      (l) => JSON.parse(l) as { id: string; type: string; attributes: Record<string, unknown>; references: { id: string; type: string; name: string }[] },
    );
    const ip = objs.find((o) => o.type === 'index-pattern');
    expect(ip?.attributes.title).toBe('faultline-logs-*');
    // the pattern must match the indices the Elasticsearch log store writes
    expect((indexTemplate('faultline-logs') as { index_patterns: string[] }).index_patterns).toEqual([ip?.attributes.title]);
    expect(ip?.attributes.timeFieldName).toBe('@timestamp');
    const searches = objs.filter((o) => o.type === 'search');
    expect(searches.map((s) => s.id)).toEqual(expect.arrayContaining(['faultline-errors-by-service', 'faultline-breaker-transitions']));
    for (const s of searches) {
      const src = JSON.parse((s.attributes.kibanaSavedObjectMeta as { searchSourceJSON: string }).searchSourceJSON);
      expect(src.query.language).toBe('kuery');
      expect(s.references).toContainEqual({ id: ip!.id, type: 'index-pattern', name: src.indexRefName });
    }
  });
});

describe('faultline slo-rules', () => {
  it('the committed rules file is what the shipped experiments generate, and promtool accepts it', async () => {
    const { generateSloRules, DEFAULT_RULES_FILE } = await import('./generate-slo-rules.js');
    const { yaml, sloCount } = await generateSloRules([]);
    expect(sloCount).toBeGreaterThan(3);
    const file = path.join(here, '..', DEFAULT_RULES_FILE);
    expect(readFileSync(file, 'utf8'), 'stale: run `faultline slo-rules`').toBe(yaml);
    expect(execFileSync('promtool', ['check', 'rules', file], { encoding: 'utf8' })).toMatch(/SUCCESS/);
  });
});
