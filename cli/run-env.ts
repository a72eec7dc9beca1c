/**
 * What `faultline run`, `gate` and `up` need running: the platform
 * database (migrated), Redis, the shop under its supervisor with the fault
 * proxy, and a worker. Each piece already running is used; the missing ones
 * are started in this process, unless `useRunning` (then missing = error).
 */
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { AppError } from '../core/errors.js';
import { loadConfig } from '../core/config.js';
import { migrateDatabase } from '../db/migrate.js';
import { closeDb } from '../db/client.js';
import { getPlatform, startWorker, type TPlatform, type TRunningWorker } from '../workers/index.js';
import { SupervisorClient } from '../workers/collectors/index.js';
import { shopUp } from './commands/shop.js';
import { isSupervisorError, parseBugList, parseInstanceCounts } from '../shop/supervisor/index.js';

/**
 * Bad `--instances` / `--bugs` are refused before anything is migrated, pinged or started;
 * so are both when no experiment runs against the shop (`shop: false`): they switch the
 * bundled shop, and silently ignoring a bug switch would pass a run that should fail.
 */
export function checkShopFlags(o: { bugs?: string; instances?: string; shop?: boolean }): void {
  if (o.shop === false) {
    const flag = o.bugs !== undefined ? '--bugs' : o.instances !== undefined ? '--instances' : undefined;
    if (flag)
      throw new AppError('VALIDATION', `${flag} switches the bundled shop, and no experiment here runs against it (each names a target file)`, {
        issues: [{ path: flag, message: "not for a target file: set the system's own switches where it starts (e.g. its environment)" }],
      });
  }
  try {
    parseInstanceCounts(o.instances);
    parseBugList(o.bugs);
  } catch (e) {
    if (isSupervisorError(e)) throw new AppError(e.code, e.message, { issues: e.issues });
    throw e;
  }
}

export interface PrepareRunEnvOptions {
  /**
   * Use the shop, proxy and workers already running; fail when one is missing.
   * @defaultValue false
   */
  useRunning?: boolean;
  /** Bug switches for a shop this command starts (SHOP_BUGS). */
  bugs?: string;
  /**
   * Instances per service for a shop this command starts (`payments=2,orders=2`).
   * Two payments instances so an experiment can lose one without losing checkouts.
   * @defaultValue 'payments=2'
   */
  instances?: string;
  /**
   * Start an in-process worker even when others are connected (`faultline up`).
   * @defaultValue false
   */
  alwaysStartWorker?: boolean;
  /**
   * Whether a run needs the bundled shop. False when every experiment names a
   * target file: the shop's supervisor is then neither contacted, started nor required.
   * @defaultValue true
   */
  shop?: boolean;
  /** Progress notes ("starting the shop…"). */
  note?: (line: string) => void;
}

export interface TRunEnv {
  platform: TPlatform;
  /** What this process started (shop, worker). */
  started: string[];
  gatewayUrl: string;
  supervisorUrl: string;
  toxiproxyUrl: string | null;
  stop(): Promise<void>;
}

const devNull = new Writable({ write: (_c, _e, cb) => cb() });

/** Migrate the platform database; failing to reach it is one UNAVAILABLE error naming DATABASE_URL. */
export async function migratePlatformDatabase(url: string): Promise<void> {
  try {
    await migrateDatabase(url);
  } catch (e) {
    throw new AppError('UNAVAILABLE', `platform database at DATABASE_URL is not reachable: ${(e as Error).message}`, { cause: e });
  }
}

/** One PING, no retries: AppError UNAVAILABLE naming REDIS_URL instead of an endless reconnect loop. */
export async function assertRedisReachable(url: string): Promise<void> {
  const ping = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  let last: Error | undefined;
  ping.on('error', (e: Error) => {
    last = e;
  });
  try {
    await ping.connect();
    await ping.ping();
  } catch (e) {
    // ioredis rejects with "Connection is closed."; the reason (ECONNREFUSED …) came as an error event
    throw new AppError('UNAVAILABLE', `Redis at REDIS_URL (${url}) is not reachable: ${(last ?? (e as Error)).message}`, { cause: e });
  } finally {
    ping.disconnect();
  }
}

export async function prepareRunEnvironment(o: PrepareRunEnvOptions = {}): Promise<TRunEnv> {
  checkShopFlags(o);
  const cfg = loadConfig();
  const note = o.note ?? (() => undefined);
  await migratePlatformDatabase(cfg.DATABASE_URL);
  await assertRedisReachable(cfg.REDIS_URL);

  const started: string[] = [];
  const stops: (() => Promise<void>)[] = [];
  let supervisorUrl = cfg.SUPERVISOR_URL;
  let gatewayUrl = cfg.SHOP_GATEWAY_URL;
  let toxiproxyUrl: string | null = cfg.TOXIPROXY_URL;
  const needShop = o.shop ?? true;
  const running = needShop && (await new SupervisorClient({ url: cfg.SUPERVISOR_URL, timeoutMs: 1500 }).health());
  if (!needShop) {
    // target files only: their systems are the user's, checked by preflightTargets
  } else if (!running) {
    if (o.useRunning)
      throw new AppError('UNAVAILABLE', `no shop supervisor answers at ${cfg.SUPERVISOR_URL} (SUPERVISOR_URL); start \`faultline up\`, or drop --use-running`);
    note('starting the shop and the fault proxy…');
    // A shop started for runs starts from its seed: the consistency checks audit
    // the whole shop database, and an anomaly from an earlier session (a bug
    // switch, a crash) must not fail this one.
    const shop = await shopUp({ bugs: o.bugs, instances: o.instances ?? 'payments=2', fresh: true }, devNull);
    supervisorUrl = shop.supervisor.url;
    gatewayUrl = shop.supervisor.gatewayUrl;
    toxiproxyUrl = shop.supervisor.toxiproxyUrl;
    started.push('shop');
    stops.push(shop.stop);
  } else if (o.bugs || o.instances) {
    note(
      `${[o.bugs && '--bugs', o.instances && '--instances'].filter(Boolean).join(' and ')} ignored: the shop at ${cfg.SUPERVISOR_URL} is already running with its own`,
    );
  }

  const platform = getPlatform({ supervisorUrl, gatewayUrl, ...(toxiproxyUrl ? { toxiproxyUrl } : {}) });
  let worker: TRunningWorker | undefined;
  const connected = (await platform.queue.getWorkers().catch(() => [])).length;
  if (o.useRunning && connected === 0 && !o.alwaysStartWorker) {
    await Promise.all(stops.map((s) => s()));
    await platform.close();
    throw new AppError(
      'UNAVAILABLE',
      'no faultline worker is connected to the runs queue; start `faultline worker` (or `faultline up`), or drop --use-running',
    );
  }
  if (!o.useRunning || o.alwaysStartWorker) {
    // `up` runs the long-lived worker (cron schedules, /metrics); run and gate
    // start one only for their own runs.
    const longLived = !!o.alwaysStartWorker;
    worker = await startWorker({
      platform,
      log: process.env.FAULTLINE_DEBUG ? undefined : () => undefined,
      schedules: longLived,
      metrics: longLived ? {} : false,
    });
    started.push('worker');
  }
  return {
    platform,
    started,
    gatewayUrl,
    supervisorUrl,
    toxiproxyUrl,
    async stop() {
      await worker?.stop();
      for (const s of stops.reverse()) await s().catch(() => undefined);
      await platform.close();
      await closeDb();
    },
  };
}
