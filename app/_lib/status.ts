/**
 * Which backend each part of the platform uses, and whether it answers.
 * Each probe is bounded by a timeout so the Settings page and
 * `GET /api/status` answer in about a second even when a backend hangs.
 */
import { execFile } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import path from 'node:path';
import { Redis } from 'ioredis';
import type { TConfig } from '../../core/config.js';
import type { TDb } from '../../db/client.js';
import { SupervisorClient } from '../../workers/collectors/index.js';

export interface TBackendStatus {
  /** Stable key: postgres, redis, faultProxy, supervisor, logStore, loadEngine. */
  key: string;
  label: string;
  /** What is in use, e.g. "Postgres log store" or "Elasticsearch". */
  kind: string;
  /** Where (URL with credentials removed, or binary path). */
  target: string;
  reachable: boolean;
  latencyMs?: number;
  detail?: string;
}

/** Strip user:password from a URL before it reaches a page. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.username || u.password) {
      u.username = u.username ? '***' : '';
      u.password = '';
    }
    return u.toString().replace(/\/$/, '');
  } catch {
    return '(unparseable URL)';
  }
}

async function timed<T>(
  timeoutMs: number,
  fn: (signal: AbortSignal) => Promise<T>,
): Promise<{ ok: true; value: T; ms: number } | { ok: false; error: string; ms: number }> {
  const started = performance.now();
  const ac = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  try {
    const value = await Promise.race([
      fn(ac.signal),
      new Promise<never>((_, rej) => {
        timer = setTimeout(() => {
          ac.abort();
          rej(new Error(`no answer within ${timeoutMs} ms`));
        }, timeoutMs);
      }),
    ]);
    return { ok: true, value, ms: Math.round(performance.now() - started) };
  } catch (e) {
    // fetch() reports "fetch failed" and hides the socket error in `cause`.
    const cause = (e as { cause?: { code?: string; message?: string } })?.cause;
    const msg = cause?.code === 'ECONNREFUSED' ? 'connection refused' : (cause?.message ?? (e instanceof Error ? e.message : String(e)));
    return { ok: false, error: msg, ms: Math.round(performance.now() - started) };
  } finally {
    clearTimeout(timer);
  }
}

async function httpJson(url: string, signal: AbortSignal): Promise<unknown> {
  const r = await fetch(url, { signal });
  if (!r.ok) throw new Error(`HTTP ${r.status}`);
  const text = await r.text();
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Find an executable on PATH (for `k6`). */
async function which(bin: string): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const p = path.join(dir, bin);
    try {
      await access(p, constants.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  return undefined;
}

function k6Version(bin: string, signal: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(bin, ['version'], { signal, timeout: 2000 }, (err, stdout) => (err ? reject(err) : resolve(stdout.trim().split('\n')[0])));
  });
}

/** Toxiproxy's `GET /version`: `{"version":"2.12.0"}` since 2.6, plain `2.5.0` before. */
export function proxyVersionText(body: unknown): string {
  const v = body !== null && typeof body === 'object' ? (body as { version?: unknown }).version : body;
  return `version ${String(v ?? '?').trim()}`;
}

export interface TStatusOptions {
  /** Per-probe timeout. @defaultValue 1500 */
  timeoutMs?: number;
}

export async function backendStatus(cfg: TConfig, db: TDb, opts: TStatusOptions = {}): Promise<TBackendStatus[]> {
  const t = opts.timeoutMs ?? 1500;
  const pg = timed(t, async () => {
    const r = await db.$client.query('select version() as v');
    return String(r.rows[0]?.v ?? '')
      .split(' ')
      .slice(0, 2)
      .join(' ');
  });
  const redis = timed(t, async () => {
    const c = new Redis(cfg.REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: t, enableOfflineQueue: false, retryStrategy: () => null });
    c.on('error', () => {
      /* reported through the probe result */
    });
    try {
      await c.connect();
      const info = await c.info('server');
      return `Redis ${/redis_version:(\S+)/.exec(info)?.[1] ?? ''}`.trim();
    } finally {
      c.disconnect();
    }
  });
  const proxy = timed(t, async (signal) => proxyVersionText(await httpJson(`${cfg.TOXIPROXY_URL}/version`, signal)));
  const supervisor = timed(t, async () => {
    const inst = await new SupervisorClient({ url: cfg.SUPERVISOR_URL, timeoutMs: t }).instances();
    return `${inst.filter((i) => i.state === 'running').length}/${inst.length} instances running`;
  });
  const logs = cfg.ELASTICSEARCH_URL
    ? timed(t, async (signal) => {
        const info = (await httpJson(cfg.ELASTICSEARCH_URL!, signal)) as { version?: { number?: string } };
        return `Elasticsearch ${info?.version?.number ?? ''}`.trim();
      })
    : pg.then((r) => (r.ok ? { ...r, value: 'logs table with full-text search' } : r));
  const k6 = cfg.K6_BIN ?? (await which('k6'));
  const engine = k6
    ? timed(t, (signal) => k6Version(k6, signal))
    : Promise.resolve({ ok: true as const, value: 'open-model engine in the worker process', ms: 0 });

  const [a, b, c, d, e, f] = await Promise.all([pg, redis, proxy, supervisor, logs, engine]);
  const row = (key: string, label: string, kind: string, target: string, r: typeof a): TBackendStatus => ({
    key,
    label,
    kind,
    target,
    reachable: r.ok,
    latencyMs: r.ms,
    detail: r.ok ? String(r.value) : r.error,
  });
  return [
    row('postgres', 'Platform database', 'PostgreSQL', redactUrl(cfg.DATABASE_URL), a),
    row('redis', 'Queues and live events', 'Redis (BullMQ)', redactUrl(cfg.REDIS_URL), b),
    row('faultProxy', 'Fault proxy', 'Toxiproxy HTTP API', redactUrl(cfg.TOXIPROXY_URL), c),
    row('supervisor', 'Shop supervisor', 'supervisor admin API', redactUrl(cfg.SUPERVISOR_URL), d),
    row(
      'logStore',
      'Log store',
      cfg.ELASTICSEARCH_URL ? 'Elasticsearch' : 'Postgres log store',
      cfg.ELASTICSEARCH_URL ? redactUrl(cfg.ELASTICSEARCH_URL) : redactUrl(cfg.DATABASE_URL),
      e,
    ),
    row('loadEngine', 'Load engine', k6 ? 'k6' : 'built-in engine', k6 ?? 'loadtests/ (built in)', f),
  ];
}
