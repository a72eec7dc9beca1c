/**
 * The shop supervisor: prepares the database, creates one fault proxy per
 * edge, runs N instances per service as child processes and serves the
 * admin API the chaos and collector code drives.
 *
 *   startSupervisor()
 *     1. migrate + seed the shop database
 *     2. plan instances (ports) and proxies (one per edge × target instance)
 *     3. populate the proxies on the Toxiproxy server (unless no proxy)
 *     4. admin API up (loopback)
 *     5. spawn every instance with SHOP_EDGES pointing at its proxies,
 *        wait until all answer /health
 *   close(): children (SIGTERM → SIGKILL), proxies it created, admin API, log files
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { SHOP_DEFAULTS, SHOP_DEFAULT_PORT_BASE, type TShopService } from '../config.js';
import { dropShopDatabase, migrateShop, seedShop } from '../db/index.js';
import { buildAdminApi } from './api.js';
import { SupervisorError } from './errors.js';
import { HttpFaultStore, parseHttpFaultInput, type THttpFault } from './http-faults.js';
import { LogRing, type TLogPage } from './logs.js';
import { defaultCounts, edgeViews, edgesEnvFor, planInstances, planProxies, type TBoundProxy, type TEdgeView, type TInstanceCounts } from './plan.js';
import { InstanceManager, type TInstanceInfo } from './processes.js';
import { populateProxies, removeProxies } from './proxies.js';
import { assertPortsFree, processStart, reapOrphans, removeState, stateFilePath, writeState } from './orphans.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '..', '..');

/** Options of {@link startSupervisor}. */
export interface TSupervisorOptions {
  /**
   * Instances per service; services not listed run one.
   * @defaultValue one of each
   */
  instances?: Partial<TInstanceCounts>;
  /**
   * SHOP_PORT_BASE: instance i of a service listens on base + offset + i.
   * @defaultValue 8080
   */
  portBase?: number;
  /**
   * Address the services bind (`HOST`). `0.0.0.0` under docker-compose so the
   * Toxiproxy container can reach them.
   * @defaultValue '127.0.0.1'
   */
  host?: string;
  /**
   * Host other machines (the proxy server, collectors) use to reach the
   * instances; appears in `GET /instances` urls and proxy upstreams.
   * @defaultValue `host`, or '127.0.0.1' when `host` is a wildcard
   */
  advertiseHost?: string;
  /**
   * Admin API address.
   * @defaultValue '127.0.0.1'
   */
  adminHost?: string;
  /**
   * Admin API port; 0 picks a free one.
   * @defaultValue 8479
   */
  adminPort?: number;
  /** @defaultValue SHOP_DATABASE_URL, else postgres://postgres@127.0.0.1:5432/faultline_shop */
  databaseUrl?: string;
  /** @defaultValue REDIS_URL, else redis://127.0.0.1:6379 */
  redisUrl?: string;
  /**
   * Toxiproxy API; `null` runs every edge direct (no fault proxy).
   * @defaultValue null
   */
  toxiproxyUrl?: string | null;
  /**
   * Host the services dial to reach the proxies.
   * @defaultValue the hostname of `toxiproxyUrl`
   */
  proxyDialHost?: string;
  /**
   * Address the proxies listen on (on the proxy server's machine).
   * @defaultValue '127.0.0.1' when the proxy server is on loopback, else '0.0.0.0'
   */
  proxyListenHost?: string;
  /**
   * SHOP_BUGS switches to turn on (validated by the caller).
   * @defaultValue []
   */
  bugs?: string[];
  /**
   * Restart instances that exit on their own.
   * @defaultValue true
   */
  restart?: boolean;
  /**
   * Drop and recreate the shop database before migrating and seeding, so the
   * shop starts from its seed. Consistency checks audit the whole database:
   * an anomaly left by an earlier run (a bug switch, a crash) would otherwise
   * be blamed on every later one.
   * @defaultValue false
   */
  freshDatabase?: boolean;
  /**
   * Directory for per-instance log files; `null` keeps logs in memory only.
   * @defaultValue '.faultline/logs' under the repository
   */
  logDir?: string | null;
  /**
   * Migrate and seed the shop database before starting.
   * @defaultValue true
   */
  prepareDatabase?: boolean;
  /**
   * Directory of the per-port-block state file (children's pids) used to
   * reap the instances of a supervisor that died without cleaning up; `null`
   * turns that off.
   * @defaultValue '.faultline/shop' under the repository
   */
  stateDir?: string | null;
  /**
   * Extra environment for every instance (e.g. a test's registry prefix).
   * @defaultValue {}
   */
  env?: Record<string, string>;
  /**
   * How long all instances may take to become healthy at start.
   * @defaultValue 60_000
   */
  startTimeoutMs?: number;
  /**
   * Crash restart backoff: first delay (doubles per consecutive crash).
   * @defaultValue 250
   */
  backoffInitialMs?: number;
}

export interface TPushResult {
  instances: string[];
  failed: { instance: string; error: string }[];
}

/** What the admin API calls. */
export interface TSupervisorControl {
  instances(): TInstanceInfo[];
  instance(id: string): TInstanceInfo;
  kill(id: string, holdMs?: number): TInstanceInfo;
  pause(id: string): TInstanceInfo;
  resume(id: string): TInstanceInfo;
  restart(id: string): TInstanceInfo;
  start(id: string): TInstanceInfo;
  edges(): TEdgeView[];
  httpFaults(): THttpFault[];
  addHttpFault(body: unknown): Promise<{ id: string; fault: THttpFault } & TPushResult>;
  removeHttpFault(id: string): Promise<{ removed: THttpFault } & TPushResult>;
  clearHttpFaults(): Promise<{ removed: THttpFault[] } & TPushResult>;
  context(): { runId: string | null };
  setContext(runId: string | null): Promise<{ runId: string | null } & TPushResult>;
  logs(after: number, limit: number): TLogPage;
}

export interface TSupervisor extends TSupervisorControl {
  /** Admin API base URL. */
  url: string;
  /** Public entry of the shop (gateway instance 0). */
  gatewayUrl: string;
  portBase: number;
  toxiproxyUrl: string | null;
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);
const WILDCARD = new Set(['0.0.0.0', '::', '[::]']);

/** Step 1: migrate and seed the shop database (dropped first when `fresh`). */
async function prepareDatabase(databaseUrl: string, fresh: boolean | undefined): Promise<void> {
  try {
    if (fresh) await dropShopDatabase(databaseUrl);
    await migrateShop(databaseUrl);
    await seedShop(databaseUrl);
  } catch (e) {
    throw new SupervisorError('UNAVAILABLE', `could not prepare the shop database ${redact(databaseUrl)}: ${(e as Error).message}`);
  }
}

interface TShopPlan {
  planned: ReturnType<typeof planInstances>;
  portBase: number;
  host: string;
  advertiseHost: string;
  databaseUrl: string;
  redisUrl: string;
}

/** Step 3: one proxy per edge × target instance on the Toxiproxy server. */
async function bindProxies(toxiproxyUrl: string, opts: TSupervisorOptions, plan: TShopPlan): Promise<TBoundProxy[]> {
  const proxyHost = new URL(toxiproxyUrl).hostname;
  const dialHost = opts.proxyDialHost ?? proxyHost;
  const listenHost = opts.proxyListenHost ?? (LOOPBACK.has(proxyHost) ? '127.0.0.1' : '0.0.0.0');
  const plannedProxies = planProxies({
    instances: plan.planned,
    databaseUrl: plan.databaseUrl,
    redisUrl: plan.redisUrl,
    listenHost,
    advertiseHost: plan.advertiseHost,
  });
  return populateProxies(toxiproxyUrl, plannedProxies, dialHost);
}

/** Keep the state file (children's pids and start times, for orphan reaping) current on every spawn and exit. */
function keepStateFile(manager: InstanceManager, stateFile: string | null, portBase: number, logs: LogRing): void {
  const saveState = () => {
    if (!stateFile) return;
    const children = manager
      .list()
      .filter((i) => i.pid !== null)
      .map((i) => ({ id: i.id, pid: i.pid as number, start: processStart(i.pid as number) }));
    try {
      writeState(stateFile, { supervisorPid: process.pid, supervisorStart: processStart(process.pid), portBase, children });
    } catch (e) {
      logs.note('supervisor', 'supervisor', 'warn', `could not write ${stateFile}: ${(e as Error).message}`);
    }
  };
  manager.on('spawn', saveState);
  manager.on('exit', saveState);
}

/** Step 5 (planned): every instance as a child process, its SHOP_EDGES pointing at its proxies. */
function addInstances(manager: InstanceManager, plan: TShopPlan, bound: TBoundProxy[], opts: TSupervisorOptions): void {
  const { planned, host, advertiseHost, portBase, databaseUrl, redisUrl } = plan;
  const edgesByService = new Map<TShopService, string>();
  for (const p of planned) {
    if (!edgesByService.has(p.service)) edgesByService.set(p.service, JSON.stringify(edgesEnvFor(p.service, bound)));
  }
  const baseEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) baseEnv[k] = v;
  // Two shops on one Redis (a demo next to a test run, two port blocks) must
  // not share queues or the registry: a shop's consumer would take the other
  // shop's events and commit them against the wrong database. Unless set
  // explicitly, the Redis keys are scoped by the shop database's name.
  const dbName = decodeURIComponent(new URL(databaseUrl).pathname.replace(/^\//, '')) || 'shop';
  baseEnv.SHOP_REDIS_PREFIX ??= `shop:${dbName}`;
  baseEnv.SHOP_REGISTRY_PREFIX ??= `${baseEnv.SHOP_REDIS_PREFIX}:registry`;
  for (const p of planned) {
    manager.add({
      id: p.id,
      service: p.service,
      index: p.index,
      port: p.port,
      url: `http://${advertiseHost}:${p.port}`,
      healthUrl: `http://127.0.0.1:${p.port}/health`,
      command: process.execPath,
      args: ['--import', 'tsx', path.join(repoRoot, 'shop', 'services', p.service, 'main.ts')],
      cwd: repoRoot,
      env: {
        ...baseEnv,
        SHOP_SERVICE: p.service,
        SHOP_INSTANCE_INDEX: String(p.index),
        SHOP_INSTANCE_ID: p.id,
        PORT: String(p.port),
        HOST: host,
        SHOP_ADVERTISE_HOST: advertiseHost,
        SHOP_PORT_BASE: String(portBase),
        SHOP_DATABASE_URL: databaseUrl,
        REDIS_URL: redisUrl,
        SHOP_EDGES: edgesByService.get(p.service) ?? '{}',
        SHOP_BUGS: (opts.bugs ?? []).join(','),
        ...opts.env,
      },
    });
  }
}

/**
 * Gives an instance the current fault list and run context. Pushes to one
 * instance run one after the other and read the state when they are sent,
 * so an older list can never land after a newer one (e.g. the re-push of a
 * restart racing a POST /http-faults).
 */
class InstanceSync {
  runId: string | null = null;
  private readonly queues = new Map<string, Promise<void>>();
  private readonly faults: HttpFaultStore;

  constructor(faults: HttpFaultStore) {
    this.faults = faults;
  }

  push = (info: TInstanceInfo): Promise<void> => {
    const prev = this.queues.get(info.id) ?? Promise.resolve();
    const next = prev
      .catch(() => undefined)
      .then(async () => {
        await pushFaults(info, this.faults.forService(info.service));
        await pushContext(info, this.runId);
      });
    this.queues.set(info.id, next);
    return next;
  };
}

/** What the admin API drives: the instances, the edges, HTTP faults and the run context (pushed to the instances). */
function supervisorControl(manager: InstanceManager, faults: HttpFaultStore, sync: InstanceSync, bound: TBoundProxy[], logs: LogRing): TSupervisorControl {
  const pushService = (service: string): Promise<TPushResult> =>
    pushAll(
      manager.list().filter((i) => i.service === service),
      sync.push,
    );
  return {
    instances: () => manager.list(),
    instance: (id) => manager.get(id),
    kill: (id, hold) => manager.kill(id, hold),
    pause: (id) => manager.pause(id),
    resume: (id) => {
      const info = manager.resume(id);
      // Faults added while it was stopped never reached it.
      if (info.state === 'running') void sync.push(info).catch(() => undefined);
      return info;
    },
    restart: (id) => manager.restart(id),
    start: (id) => manager.start(id),
    edges: () => edgeViews(bound),
    httpFaults: () => faults.list(),
    addHttpFault: async (body) => {
      const fault = faults.add(parseHttpFaultInput(body));
      return { id: fault.id, fault, ...(await pushService(fault.service)) };
    },
    removeHttpFault: async (id) => {
      const removed = faults.remove(id);
      if (!removed) throw new SupervisorError('NOT_FOUND', `no HTTP fault ${id}`);
      return { removed, ...(await pushService(removed.service)) };
    },
    clearHttpFaults: async () => {
      const removed = faults.clear();
      const services = [...new Set(manager.list().map((i) => i.service))];
      const results = await Promise.all(services.map((s) => pushService(s)));
      return { removed, instances: results.flatMap((r) => r.instances), failed: results.flatMap((r) => r.failed) };
    },
    context: () => ({ runId: sync.runId }),
    setContext: async (id) => {
      sync.runId = id;
      const r = await pushAll(manager.list(), sync.push);
      return { runId: sync.runId, ...r };
    },
    logs: (after, limit) => logs.read(after, limit),
  };
}

/** Step 4: the admin API listening; resolves to its base URL. */
async function listenAdmin(api: FastifyInstance, opts: TSupervisorOptions): Promise<string> {
  const adminPort = opts.adminPort ?? 8479;
  const adminHost = opts.adminHost ?? '127.0.0.1';
  try {
    await api.listen({ host: adminHost, port: adminPort });
  } catch (e) {
    throw new SupervisorError('UNAVAILABLE', `supervisor admin API cannot listen on ${adminHost}:${adminPort}: ${(e as Error).message}`);
  }
  const addr = api.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : adminPort;
  return `http://${adminHost.includes(':') ? `[${adminHost}]` : adminHost}:${port}`;
}

/** Start the supervised shop; resolves when every instance is healthy. */
export async function startSupervisor(opts: TSupervisorOptions = {}): Promise<TSupervisor> {
  const portBase = opts.portBase ?? SHOP_DEFAULT_PORT_BASE;
  const host = opts.host ?? '127.0.0.1';
  const plan: TShopPlan = {
    planned: planInstances({ ...defaultCounts(), ...opts.instances } satisfies TInstanceCounts, portBase),
    portBase,
    host,
    advertiseHost: opts.advertiseHost ?? (WILDCARD.has(host) ? '127.0.0.1' : host),
    databaseUrl: opts.databaseUrl ?? process.env.SHOP_DATABASE_URL ?? SHOP_DEFAULTS.databaseUrl,
    redisUrl: opts.redisUrl ?? process.env.REDIS_URL ?? SHOP_DEFAULTS.redisUrl,
  };
  const toxiproxyUrl = opts.toxiproxyUrl ?? null;

  const stateDir = opts.stateDir === undefined ? path.join(repoRoot, '.faultline', 'shop') : opts.stateDir;
  const stateFile = stateDir ? stateFilePath(stateDir, portBase) : null;
  const reaped = stateFile ? (await reapOrphans(stateFile, { checkoutRoot: repoRoot })).killed : [];
  await assertPortsFree(host, plan.planned);

  if (opts.prepareDatabase ?? true) await prepareDatabase(plan.databaseUrl, opts.freshDatabase);
  const bound = toxiproxyUrl ? await bindProxies(toxiproxyUrl, opts, plan) : [];

  const logs = new LogRing({ dir: opts.logDir === undefined ? path.join(repoRoot, '.faultline', 'logs') : opts.logDir });
  for (const r of reaped) logs.note(r.id, r.id.replace(/-\d+$/, ''), 'warn', 'killed an instance left behind by a supervisor that died', { pid: r.pid });
  const faults = new HttpFaultStore();
  const sync = new InstanceSync(faults);

  const manager = new InstanceManager({
    logs,
    restart: opts.restart ?? true,
    backoffInitialMs: opts.backoffInitialMs,
    healthTimeoutMs: opts.startTimeoutMs ?? 60_000,
    // A restarted instance forgot its faults and context: give them back before it counts as running.
    onHealthy: async (info) => {
      await sync.push(info);
    },
  });
  keepStateFile(manager, stateFile, portBase, logs);
  addInstances(manager, plan, bound, opts);
  const control = supervisorControl(manager, faults, sync, bound, logs);

  let api: FastifyInstance | null = null;
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await manager.stopAll();
    if (stateFile) removeState(stateFile);
    if (toxiproxyUrl && bound.length) {
      const failed = await removeProxies(
        toxiproxyUrl,
        bound.map((p) => p.name),
      );
      if (failed.length) logs.note('supervisor', 'supervisor', 'warn', `could not remove proxies: ${failed.join(', ')}`);
    }
    await api?.close();
    await logs.close();
  };

  try {
    api = buildAdminApi(control);
    const url = await listenAdmin(api, opts);
    await manager.startAll();
    return { ...control, url, gatewayUrl: `http://${plan.advertiseHost}:${portBase}`, portBase, toxiproxyUrl, close };
  } catch (e) {
    await close();
    throw e;
  }
}

/**
 * Run `fn` for every running or starting instance. Paused ones cannot answer
 * (they are synced on resume); a starting one that is not listening yet is
 * synced when it turns healthy, so its failure is not reported.
 */
async function pushAll(instances: TInstanceInfo[], fn: (i: TInstanceInfo) => Promise<void>): Promise<TPushResult> {
  const targets = instances.filter((i) => i.state === 'running' || i.state === 'starting');
  const failed: TPushResult['failed'] = [];
  const ok: string[] = [];
  await Promise.all(
    targets.map(async (i) => {
      try {
        await fn(i);
        ok.push(i.id);
      } catch (e) {
        if (i.state === 'running') failed.push({ instance: i.id, error: (e as Error).message });
      }
    }),
  );
  return { instances: ok.sort(), failed };
}

async function adminCall(info: TInstanceInfo, method: string, pathname: string, body: unknown): Promise<void> {
  const r = await fetch(`http://127.0.0.1:${info.port}${pathname}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(2000),
  });
  const text = await r.text();
  if (!r.ok) throw new Error(`${method} ${pathname} on ${info.id} answered ${r.status}: ${text.slice(0, 200)}`);
}

/** Replace the instance's whole fault list (idempotent, so re-pushing after a restart is safe). */
function pushFaults(info: TInstanceInfo, list: THttpFault[]): Promise<void> {
  return adminCall(info, 'PUT', '/__admin/faults', {
    faults: list.map(({ service: _s, createdAt: _c, ...f }) => f),
  });
}

function pushContext(info: TInstanceInfo, runId: string | null): Promise<void> {
  return adminCall(info, 'PUT', '/__admin/context', { runId });
}

function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}
