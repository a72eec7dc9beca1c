/**
 * The real stack the Playwright suite runs against, in one child process:
 *
 *   fault proxy (chaos/) ◀── supervisor + shop (every edge through the proxy, bug switch on)
 *        ▲                        ▲
 *   runner worker + schedule worker (workers/), own DB + Redis prefix
 *        ▲
 *   next start (the built console) on a free port, same env
 *
 * Prints one JSON line `{"ready":true, ...urls}` on stdout when everything
 * answers; SIGTERM tears it all down (faults halted, databases dropped,
 * Redis keys removed). Run: `npx tsx e2e/stack.ts [--bugs double-charge]`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { haltAll, startFaultProxy } from '../chaos/index.js';
import { createTestDatabase } from '../db/testing.js';
import { dropShopDatabase } from '../shop/index.js';
import { startSupervisor, type TSupervisor } from '../shop/supervisor/index.js';
import { getPlatform, startWorker } from '../workers/index.js';
import { startPlatformSchedules } from '../workers/schedules/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

async function freePortBase(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 30_000 + Math.floor(Math.random() * 600) * 50;
    if ((await Promise.all(Array.from({ length: 50 }, (_, i) => portFree(base + i)))).every(Boolean)) return base;
  }
  throw new Error('no free block of 50 ports');
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

async function waitHttp(url: string, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (r.status < 500) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms`);
}

const log = (m: string) => process.stderr.write(`[e2e-stack] ${m}\n`);

async function main() {
  const bugsArg = process.argv.indexOf('--bugs');
  const bugs = bugsArg > 0 ? (process.argv[bugsArg + 1] ?? '').split(',').filter(Boolean) : [];
  const tag = randomBytes(4).toString('hex');
  const prefix = `fle2e${tag}`;
  const cleanups: (() => Promise<unknown>)[] = [];
  let closing = false;
  const close = async (code: number) => {
    if (closing) return;
    closing = true;
    for (const c of cleanups.reverse()) await c().catch((e) => log(`cleanup: ${(e as Error).message}`));
    process.exit(code);
  };
  process.on('SIGTERM', () => void close(0));
  process.on('SIGINT', () => void close(0));
  try {
    const t = await createTestDatabase();
    cleanups.push(() => t.drop());
    const proxy = await startFaultProxy({ host: '127.0.0.1', port: 0 });
    cleanups.push(() => proxy.close());
    const shopDbUrl = `postgres://postgres@127.0.0.1:5432/fl_shop_e2e_${tag}`;
    cleanups.push(() => dropShopDatabase(shopDbUrl));
    const reportDir = mkdtempSync(path.join(os.tmpdir(), 'fl-e2e-reports-'));
    cleanups.push(async () => rmSync(reportDir, { recursive: true, force: true }));
    cleanups.push(async () => {
      const redis = new Redis('redis://127.0.0.1:6379');
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length) await redis.del(...keys);
      redis.disconnect();
    });
    log(`starting shop (bugs: ${bugs.join(',') || 'none'})`);
    const supervisor: TSupervisor = await startSupervisor({
      portBase: await freePortBase(),
      adminPort: 0,
      databaseUrl: shopDbUrl,
      toxiproxyUrl: proxy.url,
      logDir: null,
      bugs,
      backoffInitialMs: 100,
      env: { SHOP_REGISTRY_PREFIX: `${prefix}:shop:registry`, SHOP_REDIS_PREFIX: `${prefix}:shop`, LOG_LEVEL: 'info' },
      startTimeoutMs: 90_000,
    });
    cleanups.push(() => supervisor.close());
    const platform = getPlatform({
      databaseUrl: t.url,
      prefix,
      toxiproxyUrl: proxy.url,
      supervisorUrl: supervisor.url,
      gatewayUrl: supervisor.gatewayUrl,
      shopDatabaseUrl: shopDbUrl,
      reportDir,
    });
    cleanups.push(() => platform.close());
    // Whatever a test left behind, no fault survives the stack.
    cleanups.push(() => haltAll({ toxiproxyUrl: proxy.url, supervisorUrl: supervisor.url, db: platform.db }));
    // schedules are started below with an observer; this worker serves no /metrics
    const worker = await startWorker({ platform, log: (l) => log(l), concurrency: 2, schedules: false, metrics: false });
    cleanups.push(() => worker.stop());
    const schedules = await startPlatformSchedules(platform, { onFired: (e) => log(`schedule ${e.scheduleId} fired: ${e.outcome}`) });
    cleanups.push(() => schedules.close());

    const port = await freePort();
    const env = {
      ...process.env,
      DATABASE_URL: t.url,
      REDIS_URL: 'redis://127.0.0.1:6379',
      TOXIPROXY_URL: proxy.url,
      SUPERVISOR_URL: supervisor.url,
      SHOP_GATEWAY_URL: supervisor.gatewayUrl,
      SHOP_DATABASE_URL: shopDbUrl,
      REPORT_DIR: reportDir,
      FAULTLINE_PREFIX: prefix,
      FAULTLINE_USERS: '',
      NODE_ENV: 'production' as const,
      PORT: String(port),
    };
    log(`starting console on ${port}`);
    const next: ChildProcess = spawn(process.execPath, [path.join(root, 'node_modules/next/dist/bin/next'), 'start', '-p', String(port), '-H', '127.0.0.1'], {
      cwd: root,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    next.stdout?.on('data', (d) => process.stderr.write(`[next] ${d}`));
    next.stderr?.on('data', (d) => process.stderr.write(`[next] ${d}`));
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          if (next.exitCode !== null) return resolve();
          next.once('exit', () => resolve());
          next.kill('SIGTERM');
          setTimeout(() => {
            next.kill('SIGKILL');
            resolve();
          }, 5000).unref();
        }),
    );
    const consoleUrl = `http://127.0.0.1:${port}`;
    await waitHttp(`${consoleUrl}/login`, 60_000);
    process.stdout.write(
      `${JSON.stringify({ ready: true, consoleUrl, supervisorUrl: supervisor.url, proxyUrl: proxy.url, gatewayUrl: supervisor.gatewayUrl, databaseUrl: t.url, prefix, bugs })}\n`,
    );
  } catch (e) {
    log(`failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    await close(1);
  }
}

void main();
