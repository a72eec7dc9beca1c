/**
 * Fixture for runner integration tests: a real fault proxy, the real shop
 * under its supervisor (every edge through the proxy), a fresh platform
 * database, a random Redis prefix, and a report directory — all torn down
 * by `close()`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { startFaultProxy } from '../../../chaos/index.js';
import { createTestDatabase } from '../../../db/testing.js';
import { dropShopDatabase } from '../../../shop/index.js';
import { startSupervisor, type TSupervisor } from '../../../shop/supervisor/index.js';
import { getPlatform, type TPlatform } from '../../platform.js';
import { enqueueRun, getReport, getViolations, startWorker, waitForRun, type TRunningWorker } from '../../index.js';

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** A SHOP_PORT_BASE whose 50-port block is free now (parallel suites pick different blocks). */
export async function freePortBase(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    // below the ephemeral range (32768+), where outgoing connections and other tests' proxies take ports
    const base = 21_000 + Math.floor(Math.random() * 230) * 50;
    const checks = await Promise.all(Array.from({ length: 50 }, (_, i) => portFree(base + i)));
    if (checks.every(Boolean)) return base;
  }
  throw new Error('no free block of 50 ports found');
}

export interface TRunnerFixture {
  platform: TPlatform;
  supervisor: TSupervisor;
  proxyUrl: string;
  shopDbUrl: string;
  dbUrl: string;
  reportDir: string;
  prefix: string;
  /** Toxics currently installed on any proxy (must be empty after every run). */
  toxics(): Promise<{ proxy: string; toxic: string }[]>;
  close(): Promise<void>;
}

export async function startRunnerFixture(
  opts: {
    bugs?: string[];
    /** How long the shop may take to come up (a busy 2-core machine compiles five services at once). @defaultValue 90000 */
    startTimeoutMs?: number;
  } = {},
): Promise<TRunnerFixture> {
  const tag = randomBytes(4).toString('hex');
  const prefix = `fltest${tag}`;
  const t = await createTestDatabase();
  const proxy = await startFaultProxy({ host: '127.0.0.1', port: 0 });
  const shopDbUrl = `postgres://postgres@127.0.0.1:5432/fl_shop_${tag}`;
  const reportDir = mkdtempSync(path.join(os.tmpdir(), 'fl-reports-'));
  let supervisor: TSupervisor | undefined;
  try {
    // a port of the block can be taken between the check and the bind (parallel suites): try another block
    for (let attempt = 1; !supervisor; attempt++) {
      try {
        supervisor = await startSupervisor({
          portBase: await freePortBase(),
          adminPort: 0,
          databaseUrl: shopDbUrl,
          toxiproxyUrl: proxy.url,
          logDir: null,
          bugs: opts.bugs ?? [],
          backoffInitialMs: 100,
          env: { SHOP_REGISTRY_PREFIX: `${prefix}:shop:registry`, SHOP_REDIS_PREFIX: `${prefix}:shop`, LOG_LEVEL: 'info' },
          startTimeoutMs: opts.startTimeoutMs ?? 90_000,
        });
      } catch (e) {
        if (attempt >= 3 || !/EADDRINUSE|in use/.test((e as Error).message)) throw e;
      }
    }
  } catch (e) {
    await proxy.close();
    await t.drop();
    throw e;
  }
  const platform = getPlatform({
    databaseUrl: t.url,
    prefix,
    toxiproxyUrl: proxy.url,
    supervisorUrl: supervisor.url,
    gatewayUrl: supervisor.gatewayUrl,
    shopDatabaseUrl: shopDbUrl,
    reportDir,
  });
  return {
    platform,
    supervisor,
    proxyUrl: proxy.url,
    shopDbUrl,
    dbUrl: t.url,
    reportDir,
    prefix,
    async toxics() {
      const r = (await (await fetch(`${proxy.url}/proxies`)).json()) as Record<string, { toxics: { name: string }[] }>;
      return Object.entries(r).flatMap(([name, p]) => p.toxics.map((x) => ({ proxy: name, toxic: x.name })));
    },
    async close() {
      await platform.queue.obliterate({ force: true }).catch(() => undefined);
      await platform.close();
      await supervisor.close().catch(() => undefined);
      await proxy.close().catch(() => undefined);
      await dropShopDatabase(shopDbUrl).catch(() => undefined);
      const redis = new Redis('redis://127.0.0.1:6379');
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length) await redis.del(...keys);
      redis.disconnect();
      await t.drop();
      rmSync(reportDir, { recursive: true, force: true });
    },
  };
}

/** Poll until `fn` returns truthy or the time is up (bounded loop). */
export async function waitFor<T>(what: string, fn: () => Promise<T> | T, timeoutMs = 30_000, everyMs = 100): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/**
 * One experiment end to end on a fresh shop (with `bugs` on): fixture, a worker, the run and
 * its stored violations, and the toxics the run left on the proxy (none, when faults never
 * outlive their run). Worker and fixture are stopped before it returns, whatever happened.
 * `beforeRun` sees the fixture once the shop is up (e.g. to point a target file's URLs at it).
 */
export async function runOnFreshShop(o: { yaml: string; sourcePath: string; bugs?: string[]; beforeRun?: (fx: TRunnerFixture) => void | Promise<void> }) {
  const fx = await startRunnerFixture({ bugs: o.bugs ?? [] });
  let worker: TRunningWorker | undefined;
  try {
    await o.beforeRun?.(fx);
    worker = await startWorker({ platform: fx.platform, log: () => undefined });
    const { runId } = await enqueueRun(fx.platform, { yaml: o.yaml, sourcePath: o.sourcePath, trigger: 'cli' });
    const run = await waitForRun(fx.platform, runId, { timeoutMs: 240_000 });
    const report = (await getReport(fx.platform, runId)) as { report?: { invariants?: { name: string; checked: number }[] } } | null;
    // what each consistency check examined (its name → checked), from the run's report
    const checked = Object.fromEntries((report?.report?.invariants ?? []).map((i) => [i.name, i.checked]));
    return { run, violations: await getViolations(fx.platform, runId), toxicsLeft: await fx.toxics(), checked };
  } finally {
    await worker?.stop();
    await fx.close();
  }
}
