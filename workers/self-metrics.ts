/**
 * faultline's own /metrics, so Prometheus can watch the watcher: runs by
 * verdict, faults active (from the fault ledger) and collector lag. Run and
 * fault figures are read from the database at scrape time (cheap grouped
 * counts), so every worker and the console report the same numbers.
 */
import http from 'node:http';
import { Counter, Gauge, Registry } from 'prom-client';
import { inArray, notInArray, sql } from 'drizzle-orm';
import type { TDb } from '../db/client.js';
import { runs, TERMINAL_RUN_STATES } from '../db/schema/index.js';

const lag = new Map<string, number>();

/**
 * Collectors call this after each tick: `lagSeconds` is how far behind real
 * time the data they just stored is (scrape end − scheduled tick, or now −
 * newest shipped log line).
 */
export function recordCollectorLag(collector: string, lagSeconds: number): void {
  lag.set(collector, Math.max(0, lagSeconds));
}

/** Run counts by state, of the ended runs (`ended`) or of the others. */
function runsByState(db: TDb, ended: boolean): Promise<{ state: string; n: string }[]> {
  const states = [...TERMINAL_RUN_STATES];
  return db
    .select({ state: runs.state, n: sql<string>`count(*)::text` })
    .from(runs)
    .where(ended ? inArray(runs.state, states) : notInArray(runs.state, states))
    .groupBy(runs.state);
}

export function createSelfMetrics(db: TDb): Registry {
  const registry = new Registry();
  new Counter({
    name: 'faultline_runs_total',
    help: 'Finished runs by verdict (passed, failed, aborted, errored), counted from the runs table',
    labelNames: ['verdict'] as const,
    registers: [registry],
    async collect() {
      const rows = await runsByState(db, true);
      this.reset();
      const seen = new Map(rows.map((x) => [x.state, Number(x.n)]));
      for (const v of TERMINAL_RUN_STATES) this.inc({ verdict: v }, seen.get(v) ?? 0);
    },
  });
  new Gauge({
    name: 'faultline_runs_active',
    help: 'Runs not yet ended, by state',
    labelNames: ['state'] as const,
    registers: [registry],
    async collect() {
      const rows = await runsByState(db, false);
      this.reset();
      for (const x of rows) this.set({ state: x.state }, Number(x.n));
    },
  });
  new Gauge({
    name: 'faultline_faults_active',
    help: 'Faults applied and not yet removed, by fault type (from the fault ledger)',
    labelNames: ['type'] as const,
    registers: [registry],
    async collect() {
      const r = await db.execute<{ type: string; n: string }>(sql`SELECT type, count(*)::text AS n FROM faults WHERE removed_at IS NULL GROUP BY type`);
      this.reset();
      for (const x of r.rows) this.set({ type: x.type }, Number(x.n));
    },
  });
  new Gauge({
    name: 'faultline_collector_lag_seconds',
    help: 'How far behind real time the newest data stored by each collector is',
    labelNames: ['collector'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [c, s] of lag) this.set({ collector: c }, s);
    },
  });
  return registry;
}

/** Serve `GET /metrics` on host:port; returns the server (close it on shutdown). */
export async function serveSelfMetrics(db: TDb, opts: { host?: string; port?: number } = {}): Promise<http.Server> {
  const registry = createSelfMetrics(db);
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    registry
      .metrics()
      .then((text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text))
      .catch((e: unknown) => res.writeHead(503, { 'content-type': 'text/plain' }).end(`metrics unavailable: ${(e as Error).message}\n`));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 9464, opts.host ?? '127.0.0.1', () => resolve());
  });
  return server;
}
