/**
 * Fixtures for the fault catalog's integration suites: a real shop under
 * the real supervisor (own shop database, Redis prefix and port block), the
 * platform ledger in its own database, bounded polling and small probes.
 */
import { randomBytes } from 'node:crypto';
import { createTestDatabase } from '../../db/testing.js';
import { dropDatabase } from '../../db/migrate.js';
import { startSupervisor, type TSupervisor, type TSupervisorOptions } from '../../shop/supervisor/index.js';
import type { TFaultContext } from '../faults/types.js';
import { startFaultProxy, type TFaultProxy } from '../proxy/index.js';

// Port blocks, polling and status probes are the supervisor tests' helpers.
export { freePortBase, waitFor, statusOf } from '../../shop/supervisor/test/helpers.js';
import { freePortBase, statusOf } from '../../shop/supervisor/test/helpers.js';

/** Status and wall time of a GET. */
export async function timedGet(url: string, timeoutMs = 5000): Promise<{ status: number; ms: number }> {
  const t0 = performance.now();
  const status = await statusOf(url, timeoutMs);
  return { status, ms: performance.now() - t0 };
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

export interface TShopFixture {
  sup: TSupervisor;
  /** The fault proxy every edge passes through, when started with `withProxy`. */
  proxy?: TFaultProxy;
  ctx: TFaultContext;
  ledgerUrl: string;
  close(): Promise<void>;
}

/**
 * The real shop (supervisor + service processes), optionally behind a
 * fault proxy, and a fault context pointing at it with its own ledger.
 */
export async function startShop(opts: Partial<TSupervisorOptions> & { withProxy?: boolean } = {}): Promise<TShopFixture> {
  const { withProxy, ...supOpts } = opts;
  const ledger = await createTestDatabase();
  const proxy = withProxy ? await startFaultProxy({ host: '127.0.0.1', port: 0 }) : undefined;
  const shopDbUrl = `postgres://postgres@127.0.0.1:5432/fl_test_shop_${randomBytes(5).toString('hex')}`;
  let sup: TSupervisor | undefined;
  try {
    sup = await startSupervisor({
      portBase: await freePortBase(),
      adminPort: 0,
      databaseUrl: shopDbUrl,
      toxiproxyUrl: proxy?.url ?? null,
      logDir: null,
      startTimeoutMs: 45_000,
      backoffInitialMs: 100,
      ...supOpts,
      env: { SHOP_REDIS_PREFIX: `fltest_${randomBytes(4).toString('hex')}:`, ...supOpts.env },
    });
  } catch (e) {
    await proxy?.close();
    await ledger.drop();
    await dropDatabase(shopDbUrl).catch(() => undefined);
    throw e;
  }
  const s = sup;
  return {
    sup: s,
    proxy,
    ledgerUrl: ledger.url,
    ctx: {
      toxiproxyUrl: s.toxiproxyUrl ?? 'http://127.0.0.1:9',
      supervisorUrl: s.url,
      db: ledger.db,
      allowedHosts: ['127.0.0.1', 'localhost'],
    },
    async close() {
      await s.close();
      await proxy?.close();
      await ledger.drop();
      await dropDatabase(shopDbUrl).catch(() => undefined);
    },
  };
}

/** True when a process with this pid exists. */
export function pidAlive(pid: number | null | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
