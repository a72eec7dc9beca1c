/**
 * `faultline target check`: after the file validates, ask every piece it
 * names whether it is there — the entry URL, Toxiproxy and each proxy, the
 * process controller, each metrics source (and that it speaks Prometheus
 * text, not HTML), the log source, each database (and that every invariant
 * and the settled query parse against it, read-only). One line per piece,
 * ok or the reason; nothing is changed anywhere.
 *
 *   target ─┬─ entry ──────── GET <url><health>
 *           ├─ edges ──────── GET /version, GET /proxies ∋ each proxy
 *           ├─ processes ──── supervisor /health | each command's program on PATH
 *           ├─ metrics ────── each scrape URL / http_sd / Prometheus buildinfo
 *           ├─ logs ───────── supervisor /health | ES root + index _count | file exists, readable
 *           └─ databases ──── SELECT 1; EXPLAIN each invariant (READ ONLY, statement_timeout)
 */
import { access, constants, stat } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { toAppError } from '../../core/errors.js';
import { ToxiproxyApi } from '../../chaos/index.js';
import type { TEnv, TTarget } from '../../targets/index.js';
import { breakerMapping, databaseUrl, historyDatabase } from '../../targets/index.js';
import { parseExposition, SupervisorClient } from '../collectors/index.js';
import { resolveHttpSd, type THttpSdTarget } from './http-sd.js';

export interface TCheckLine {
  /** What was checked, e.g. `edges.proxies.api->postgres`. */
  piece: string;
  ok: boolean;
  detail: string;
  /** Not a failure, but worth a look (e.g. a breaker metric not exposed yet). */
  warn?: boolean;
}

export interface TCheckTargetOptions {
  /**
   * Bound of each network call.
   * @defaultValue 3000
   */
  timeoutMs?: number;
  /** Environment the database variables are read from. @defaultValue process.env */
  env?: TEnv;
}

type TLineSink = (l: TCheckLine) => void;

async function httpGet(url: string, timeoutMs: number): Promise<{ status: number; type: string; body: string }> {
  const r = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'follow' });
  const body = await r.text();
  return { status: r.status, type: r.headers.get('content-type') ?? '', body };
}

function reason(e: unknown): string {
  const err = e as { name?: string; cause?: { code?: string; message?: string } };
  if (err?.name === 'TimeoutError') return 'no answer in time';
  if (err?.cause?.code) return `${err.cause.code}${err.cause.message ? ` (${err.cause.message})` : ''}`;
  return toAppError(e).message;
}

async function checkEntry(t: TTarget, o: Required<Pick<TCheckTargetOptions, 'timeoutMs'>>, add: TLineSink) {
  const url = `${t.entry.url.replace(/\/+$/, '')}${t.entry.health}`;
  try {
    const r = await httpGet(url, o.timeoutMs);
    add({ piece: 'entry', ok: r.status < 500, detail: `GET ${url} → HTTP ${r.status}` });
  } catch (e) {
    add({ piece: 'entry', ok: false, detail: `GET ${url}: ${reason(e)}` });
  }
}

async function checkEdges(t: TTarget, o: { timeoutMs: number }, add: TLineSink) {
  if (!t.edges) return;
  const tp = new ToxiproxyApi(t.edges.toxiproxy, o.timeoutMs);
  let proxies: Map<string, unknown>;
  try {
    proxies = await tp.list();
    add({ piece: 'edges.toxiproxy', ok: true, detail: `${t.edges.toxiproxy}: ${proxies.size} proxies` });
  } catch (e) {
    add({ piece: 'edges.toxiproxy', ok: false, detail: reason(e) });
    return;
  }
  if (t.edges.source === 'supervisor') {
    const n = [...proxies.keys()].filter((k) => k.includes('->')).length;
    add({
      piece: 'edges.proxies',
      ok: n > 0,
      detail: n > 0 ? `${n} edge proxies created by the supervisor` : 'no "<from>-><to>" proxy on the server yet (is the supervisor up?)',
    });
    return;
  }
  for (const p of t.edges.proxies) {
    const exists = proxies.has(p.name);
    if (exists) add({ piece: `edges.proxies.${p.name}`, ok: true, detail: 'exists' });
    else if (p.listen) add({ piece: `edges.proxies.${p.name}`, ok: true, detail: `absent; created at run start (${p.listen} → ${p.upstream})` });
    else {
      const known = [...proxies.keys()].slice(0, 10).join(', ') || 'none';
      add({
        piece: `edges.proxies.${p.name}`,
        ok: false,
        detail: `no proxy "${p.name}" on ${t.edges.toxiproxy} (it has: ${known}); fix the name or give listen and upstream`,
      });
    }
  }
}

async function onPath(program: string): Promise<boolean> {
  if (program.includes('/'))
    return access(program, constants.X_OK).then(
      () => true,
      () => false,
    );
  for (const dir of (process.env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    if (
      await access(path.join(dir, program), constants.X_OK).then(
        () => true,
        () => false,
      )
    )
      return true;
  }
  return false;
}

async function checkProcesses(t: TTarget, o: { timeoutMs: number }, add: TLineSink) {
  const p = t.processes;
  if (!p) return;
  if (p.kind === 'supervisor') {
    const ok = await new SupervisorClient({ url: p.url, timeoutMs: o.timeoutMs }).health();
    add({ piece: 'processes', ok, detail: ok ? `supervisor at ${p.url} answers` : `supervisor at ${p.url} does not answer /health` });
    return;
  }
  for (const [verb, cmd] of Object.entries(p.commands)) {
    if (!cmd) continue;
    const program = cmd.trim().split(/\s+/)[0]!;
    const ok = await onPath(program);
    add({ piece: `processes.commands.${verb}`, ok, detail: ok ? `${program} found (not run)` : `program "${program}" not found on PATH` });
  }
}

async function checkScrape(url: string, piece: string, t: TTarget, o: { timeoutMs: number }, add: TLineSink) {
  try {
    const r = await httpGet(url, o.timeoutMs);
    if (r.status !== 200) return add({ piece, ok: false, detail: `GET ${url} → HTTP ${r.status}` });
    if (/html/i.test(r.type) || /^\s*<(!doctype|html)/i.test(r.body))
      return add({
        piece,
        ok: false,
        detail: `GET ${url} answers HTML (${r.type || 'no content type'}), not the Prometheus text format: is this the /metrics path?`,
      });
    const samples = parseExposition(r.body);
    if (samples.length === 0) return add({ piece, ok: false, detail: `GET ${url} answers no Prometheus sample` });
    const families = new Set(samples.map((s) => s.metric.replace(/_(bucket|sum|count)$/, '')));
    const missing: string[] = [];
    if (t.metrics?.requests && !families.has(t.metrics.requests.histogram)) missing.push(`histogram ${t.metrics.requests.histogram}`);
    const br = t.metrics?.breakers ? breakerMapping(t.metrics.breakers) : undefined;
    if (br && !families.has(br.metric)) missing.push(`breaker metric ${br.metric}`);
    add({
      piece,
      ok: true,
      warn: missing.length > 0,
      detail: `${samples.length} samples${missing.length ? `; not exposed (yet): ${missing.join(', ')}` : ''}`,
    });
  } catch (e) {
    add({ piece, ok: false, detail: `GET ${url}: ${reason(e)}` });
  }
}

async function checkMetrics(t: TTarget, o: { timeoutMs: number }, add: TLineSink) {
  const m = t.metrics;
  if (!m) return;
  await Promise.all(m.scrape.map((u, i) => checkScrape(u, `metrics.scrape.${i}`, t, o, add)));
  if (m.http_sd) {
    // the same resolution a run makes: the JSON shape, then every listed target's metrics URL
    let found: THttpSdTarget[];
    try {
      found = await resolveHttpSd(m.http_sd, o.timeoutMs);
    } catch (e) {
      return add({ piece: 'metrics.http_sd', ok: false, detail: `${m.http_sd}: ${reason(e)}` });
    }
    add({
      piece: 'metrics.http_sd',
      ok: found.length > 0,
      detail: found.length
        ? `${found.length} target${found.length === 1 ? '' : 's'}: ${found.map((x) => x.address).join(', ')}`
        : `${m.http_sd} lists no target`,
    });
    await Promise.all(found.map((x) => checkScrape(x.url, `metrics.http_sd[${x.address}]`, t, o, add)));
  }
  if (m.prometheus) {
    try {
      const r = await httpGet(`${m.prometheus.replace(/\/+$/, '')}/api/v1/status/buildinfo`, o.timeoutMs);
      const v = (JSON.parse(r.body) as { data?: { version?: string } }).data?.version;
      add({ piece: 'metrics.prometheus', ok: r.status === 200 && Boolean(v), detail: v ? `Prometheus ${v}` : `HTTP ${r.status}, no build info` });
    } catch (e) {
      add({ piece: 'metrics.prometheus', ok: false, detail: reason(e) });
    }
  }
}

async function checkLogs(t: TTarget, o: { timeoutMs: number }, add: TLineSink) {
  const l = t.logs;
  if (!l) return;
  if (l.kind === 'file') {
    const isFile = await stat(l.path).then(
      (s) => s.isFile(),
      () => false,
    );
    const ok =
      isFile &&
      (await access(l.path, constants.R_OK).then(
        () => true,
        () => false,
      ));
    return add({ piece: 'logs', ok, detail: ok ? `${l.path} readable` : `${l.path} is not a readable file` });
  }
  if (l.kind === 'elasticsearch') return checkElasticsearchLogs(l, o, add);
  const url = `${l.url.replace(/\/+$/, '')}/health`;
  try {
    const r = await httpGet(url, o.timeoutMs);
    add({ piece: 'logs', ok: r.status === 200, detail: `${l.kind} at ${l.url}: HTTP ${r.status}` });
  } catch (e) {
    add({ piece: 'logs', ok: false, detail: `${l.kind} at ${l.url}: ${reason(e)}` });
  }
}

/** Elasticsearch answers, and the index (or pattern) names at least one index: `_count` without allow_no_indices. */
async function checkElasticsearchLogs(l: Extract<NonNullable<TTarget['logs']>, { kind: 'elasticsearch' }>, o: { timeoutMs: number }, add: TLineSink) {
  const base = l.url.replace(/\/+$/, '');
  try {
    const root = await httpGet(base, o.timeoutMs);
    if (root.status !== 200) return add({ piece: 'logs', ok: false, detail: `elasticsearch at ${l.url}: HTTP ${root.status}` });
    const r = await httpGet(`${base}/${encodeURIComponent(l.index)}/_count?allow_no_indices=false&ignore_unavailable=false`, o.timeoutMs);
    const count = r.status === 200 ? (JSON.parse(r.body) as { count?: number }).count : undefined;
    if (r.status === 404) return add({ piece: 'logs', ok: false, detail: `elasticsearch at ${l.url}: index ${l.index} does not exist` });
    add({
      piece: 'logs',
      ok: r.status === 200,
      detail:
        r.status === 200
          ? `elasticsearch at ${l.url}: index ${l.index}, ${count ?? '?'} documents`
          : `elasticsearch at ${l.url}: index ${l.index}: HTTP ${r.status}`,
    });
  } catch (e) {
    add({ piece: 'logs', ok: false, detail: `elasticsearch at ${l.url}: ${reason(e)}` });
  }
}

/** Each query of a database must parse and plan against it, in a read-only transaction. */
async function checkDatabase(t: TTarget, name: string, o: Required<TCheckTargetOptions>, add: TLineSink) {
  const url = databaseUrl(t, name, o.env);
  if (!url) return add({ piece: `databases.${name}`, ok: false, detail: `${t.databases[name]!.url_env} is not set and there is no default` });
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: o.timeoutMs, statement_timeout: o.timeoutMs });
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (e) {
    const u = new URL(url);
    return add({ piece: `databases.${name}`, ok: false, detail: `cannot connect to ${u.hostname}:${u.port || 5432}${u.pathname}: ${reason(e)}` });
  }
  try {
    await client.query('BEGIN READ ONLY');
    add({ piece: `databases.${name}`, ok: true, detail: 'connected (read-only)' });
    const queries: [string, string][] = [
      ...t.invariants.filter((i) => i.database === name).map((i): [string, string] => [`invariants.${i.name}`, i.sql]),
      ...t.acknowledged.flatMap((a, i) => [
        ...('database' in a.confirm && a.confirm.database === name ? [[`acknowledged.${i}.confirm`, a.confirm.sql] as [string, string]] : []),
        ...(['failed', 'unknown'] as const).flatMap((k) => {
          const q = a[k];
          return q && historyDatabase(a, q) === name ? [[`acknowledged.${i}.${k}`, q.sql] as [string, string]] : [];
        }),
      ]),
      ...t.trails.flatMap((q, i) => (q.database === name ? [[`trails.${i}`, q.sql] as [string, string]] : [])),
      ...(t.settled?.database === name ? [['settled', t.settled.sql] as [string, string]] : []),
    ];
    for (const [piece, sql] of queries) {
      try {
        await client.query('SAVEPOINT q');
        // $1 is the acknowledged ids (or the request keys): plan it with an empty text array; $2 the load's start
        await client.query(`EXPLAIN ${sql}`, sql.includes('$2') ? [[], Date.now()] : sql.includes('$1') ? [[]] : []);
        await client.query('RELEASE SAVEPOINT q');
        add({ piece, ok: true, detail: 'parses and plans' });
      } catch (e) {
        await client.query('ROLLBACK TO SAVEPOINT q').catch(() => undefined);
        add({ piece, ok: false, detail: (e as Error).message });
      }
    }
  } finally {
    await client.query('ROLLBACK').catch(() => undefined);
    await client.end().catch(() => undefined);
  }
}

/** Check every piece the target names; never throws for a piece that is down (that is a line). */
export async function checkTarget(t: TTarget, opts: TCheckTargetOptions = {}, onLine?: TLineSink): Promise<TCheckLine[]> {
  const o = { timeoutMs: opts.timeoutMs ?? 3000, env: opts.env ?? process.env };
  const lines: TCheckLine[] = [];
  const add: TLineSink = (l) => {
    lines.push(l);
    onLine?.(l);
  };
  await checkEntry(t, o, add);
  await checkEdges(t, o, add);
  await checkProcesses(t, o, add);
  await checkMetrics(t, o, add);
  await checkLogs(t, o, add);
  for (const name of Object.keys(t.databases)) await checkDatabase(t, name, o, add);
  return lines;
}
