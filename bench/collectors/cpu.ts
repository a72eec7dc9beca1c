/**
 * Collectors' CPU share during a run: the metrics collector (1 s scrapes of
 * every instance, parse, compact store) and the log collector (supervisor
 * stream → Postgres log store) run in this process while a child process
 * runs the shop under load. process.cpuUsage() around the run = the
 * collectors' CPU (plus this process's idle event loop), reported as a share
 * of one core, with rows stored per second.
 *
 *   npx tsx bench/collectors/cpu.ts [--rate 30] [--seconds 30]
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { createTestDatabase } from '../../db/testing.js';
import { runs } from '../../db/schema/index.js';
import { LogCollector, MetricsCollector, SupervisorClient } from '../../workers/collectors/index.js';
import { PostgresLogStore } from '../../workers/logstore/index.js';

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const rate = arg('rate', 30);
const seconds = arg('seconds', 30);

const t = await createTestDatabase();
const shopDb = `postgres://postgres@127.0.0.1:5432/fl_benchc_${randomBytes(4).toString('hex')}`;
const child = spawn(process.execPath, ['--import', 'tsx', new URL('./shop-under-load.ts', import.meta.url).pathname], {
  env: { ...process.env, BENCH_SHOP_DB: shopDb, BENCH_PORT_BASE: String(19_000 + Math.floor(Math.random() * 40) * 50) },
  stdio: ['pipe', 'pipe', 'inherit'],
});
const lines = createInterface({ input: child.stdout! });
const next = () => new Promise<string>((resolve) => lines.once('line', resolve));
const ready = await next();
const { supervisorUrl } = JSON.parse(ready.replace(/^ready /, '')) as { supervisorUrl: string };

const runId = 'bench-collectors';
await t.db.insert(runs).values({ id: runId, experimentName: 'bench', target: 'shop', definition: {} });
const supervisor = new SupervisorClient({ url: supervisorUrl });
await supervisor.setContext(runId);
const metrics = new MetricsCollector({ db: t.db, runId, instances: () => supervisor.instances() });
const logs = new LogCollector({ supervisor, store: new PostgresLogStore(t.db), runId });

await logs.start();
const cpu0 = process.cpuUsage();
const wall0 = performance.now();
metrics.start();
child.stdin!.write(`load ${rate} ${seconds}\n`);
await next(); // "done"
await metrics.stop({ finalScrape: true });
await logs.stop();
const cpu = process.cpuUsage(cpu0);
const wallMs = performance.now() - wall0;
const cpuMs = (cpu.user + cpu.system) / 1000;

const size = await t.db.$client.query<{ s: string; m: string; l: string }>(
  "select pg_size_pretty(pg_total_relation_size('metric_samples')) s, pg_size_pretty(pg_total_relation_size('metric_series')) m, pg_size_pretty(pg_total_relation_size('logs')) l",
);
const out = {
  load: `${rate} rps checkout-mix for ${seconds} s`,
  wallS: +(wallMs / 1000).toFixed(1),
  collectorsCpuMs: Math.round(cpuMs),
  cpuShareOfOneCorePct: +((100 * cpuMs) / wallMs).toFixed(2),
  scrapes: metrics.stats.scrapes,
  failedScrapes: metrics.stats.failedScrapes,
  skippedTicks: metrics.stats.skippedTicks,
  series: metrics.stats.series,
  samplesStored: metrics.stats.samplesStored,
  samplesPerSecond: Math.round(metrics.stats.samplesStored / (wallMs / 1000)),
  logLinesShipped: logs.stats.written,
  storage: size.rows[0],
};
console.log(JSON.stringify(out, null, 2));

child.stdin!.write('stop\n');
await new Promise((r) => child.once('exit', r));
await t.drop();
process.exit(0);
