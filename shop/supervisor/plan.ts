/**
 * Pure planning for the supervisor: which instances run on which ports,
 * which fault proxies exist for which edges, and what SHOP_EDGES each service
 * gets. No I/O here, so the plan is tested without processes or servers.
 *
 *   counts + port base ──▶ instances (payments-0 :8120, payments-1 :8121, …)
 *   SHOP_EDGE_LIST     ──▶ proxies   orders->payments   → payments-0
 *                                    orders->payments#1 → payments-1
 *                                    orders->postgres   → host:port of SHOP_DATABASE_URL
 *   bound proxies      ──▶ SHOP_EDGES per service (only the edges it dials)
 */
import { z } from 'zod';
import { SHOP_EDGE_LIST, SHOP_MAX_INSTANCES, SHOP_SERVICES, SHOP_BUGS, instanceId, shopPort, type TShopEdge, type TShopService } from '../config.js';
import type { TEdges } from '../lib/edges.js';
import { SupervisorError, type TSupervisorIssue } from './errors.js';

export type TInstanceCounts = Record<TShopService, number>;

export interface TPlannedInstance {
  id: string;
  service: TShopService;
  index: number;
  port: number;
}

export interface TPlannedProxy {
  /** Toxiproxy proxy name: the edge name, plus `#<i>` for target instance i > 0. */
  name: string;
  edge: string;
  /** Target instance id for service edges. */
  instance?: string;
  /** Address the proxy listens on (`host:0`: the proxy server picks the port). */
  listen: string;
  /** host:port the proxy forwards to. */
  upstream: string;
}

/** A proxy after the server created it: `listen` is the bound address. */
export interface TBoundProxy extends TPlannedProxy {
  /** host:port the services dial to go through this proxy. */
  dial: string;
}

export interface TEdgeView {
  name: string;
  from: TShopService;
  to: TShopEdge['to'];
  kind: TShopEdge['kind'];
  proxies: { name: string; listen: string; upstream: string; instance?: string }[];
}

/** One instance of each service unless told otherwise. */
export function defaultCounts(): TInstanceCounts {
  return Object.fromEntries(SHOP_SERVICES.map((s) => [s, 1])) as TInstanceCounts;
}

/**
 * Parse `payments=2,orders=3` (the `--instances` flag) over the defaults.
 * Throws a VALIDATION SupervisorError naming each bad entry.
 */
export function parseInstanceCounts(raw: string | undefined, base: TInstanceCounts = defaultCounts()): TInstanceCounts {
  const out = { ...base };
  if (!raw || raw.trim() === '') return out;
  const issues: TSupervisorIssue[] = [];
  for (const part of raw.split(',')) {
    const item = part.trim();
    if (!item) continue;
    const m = /^([a-z]+)\s*=\s*(\S+)$/.exec(item);
    if (!m) {
      issues.push({ path: 'instances', message: `"${item}" is not <service>=<count>` });
      continue;
    }
    const [, svc, n] = m;
    if (!(SHOP_SERVICES as readonly string[]).includes(svc)) {
      issues.push({ path: `instances.${svc}`, message: `unknown service (known: ${SHOP_SERVICES.join(', ')})` });
      continue;
    }
    const count = Number(n);
    // 0 is allowed: running a subset of the shop (e.g. payments alone) is how its parts are tested and debugged.
    if (!Number.isInteger(count) || count < 0 || count > SHOP_MAX_INSTANCES) {
      issues.push({ path: `instances.${svc}`, message: `count must be an integer 0..${SHOP_MAX_INSTANCES}, got "${n}"` });
      continue;
    }
    out[svc as TShopService] = count;
  }
  if (issues.length) throw new SupervisorError('VALIDATION', 'invalid --instances', issues);
  return out;
}

/** Parse the bug switch list; unknown names are field-level errors. */
export function parseBugList(raw: string | undefined): string[] {
  if (!raw) return [];
  const names = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = names.filter((n) => !(SHOP_BUGS as readonly string[]).includes(n));
  if (bad.length) {
    throw new SupervisorError(
      'VALIDATION',
      'invalid bug switches',
      bad.map((b) => ({ path: 'bugs', message: `unknown bug switch "${b}" (known: ${SHOP_BUGS.join(', ')})` })),
    );
  }
  return [...new Set(names)];
}

export const PortBaseSchema = z
  .number()
  .int()
  .min(1024)
  .max(65535 - 60);

export function planInstances(counts: TInstanceCounts, portBase: number): TPlannedInstance[] {
  const r = PortBaseSchema.safeParse(portBase);
  if (!r.success) throw new SupervisorError('VALIDATION', 'invalid port base', [{ path: 'portBase', message: r.error.issues[0].message }]);
  for (const service of SHOP_SERVICES) {
    const n = counts[service];
    if (!Number.isInteger(n) || n < 0 || n > SHOP_MAX_INSTANCES) {
      throw new SupervisorError('VALIDATION', 'invalid instance counts', [
        { path: `instances.${service}`, message: `count must be an integer 0..${SHOP_MAX_INSTANCES}, got ${n}` },
      ]);
    }
  }
  const out: TPlannedInstance[] = [];
  for (const service of SHOP_SERVICES) {
    for (let index = 0; index < counts[service]; index++) {
      out.push({ id: instanceId(service, index), service, index, port: shopPort(service, index, portBase) });
    }
  }
  return out;
}

/** host:port of a postgres:// or redis:// URL (default ports filled in). */
export function hostPortOf(url: string, defaultPort: number): string {
  const u = new URL(url);
  const host = u.hostname.includes(':') && !u.hostname.startsWith('[') ? `[${u.hostname}]` : u.hostname;
  return `${host || '127.0.0.1'}:${u.port || defaultPort}`;
}

/** Proxy name for target instance `index` of a service edge (instance 0 keeps the bare edge name). */
export function proxyName(edge: string, index: number): string {
  return index === 0 ? edge : `${edge}#${index}`;
}

/**
 * One proxy per (edge, target instance). `advertiseHost` is how the proxy
 * server reaches the shop's instances (127.0.0.1 embedded; the shop
 * container's name under docker-compose).
 */
export function planProxies(opts: {
  instances: TPlannedInstance[];
  databaseUrl: string;
  redisUrl: string;
  listenHost: string;
  advertiseHost: string;
  edges?: readonly TShopEdge[];
}): TPlannedProxy[] {
  const out: TPlannedProxy[] = [];
  const listen = `${opts.listenHost}:0`;
  for (const e of opts.edges ?? SHOP_EDGE_LIST) {
    if (e.kind === 'postgres') out.push({ name: e.name, edge: e.name, listen, upstream: hostPortOf(opts.databaseUrl, 5432) });
    else if (e.kind === 'redis') out.push({ name: e.name, edge: e.name, listen, upstream: hostPortOf(opts.redisUrl, 6379) });
    else {
      for (const inst of opts.instances.filter((i) => i.service === e.to)) {
        out.push({ name: proxyName(e.name, inst.index), edge: e.name, instance: inst.id, listen, upstream: `${opts.advertiseHost}:${inst.port}` });
      }
    }
  }
  return out;
}

/** Port of a bound listen address as Toxiproxy reports it (`127.0.0.1:41234`, `[::]:41234`). */
export function portOfListen(listen: string): number {
  const port = Number(listen.slice(listen.lastIndexOf(':') + 1));
  if (!Number.isInteger(port) || port <= 0) throw new SupervisorError('INTERNAL', `proxy server reported an unusable listen address "${listen}"`);
  return port;
}

/** SHOP_EDGES for one service: only the edges it dials (see shop/lib/edges.ts for the format). */
export function edgesEnvFor(service: TShopService, bound: TBoundProxy[], edges: readonly TShopEdge[] = SHOP_EDGE_LIST): TEdges {
  const out: TEdges = {};
  for (const e of edges) {
    if (e.from !== service) continue;
    const ps = bound.filter((p) => p.edge === e.name);
    if (ps.length === 0) continue;
    if (e.kind === 'service') {
      const m: Record<string, string> = {};
      for (const p of ps) if (p.instance) m[p.instance] = p.dial;
      out[e.name] = m;
    } else {
      out[e.name] = ps[0].dial;
    }
  }
  return out;
}

/** The `GET /edges` view: every edge with its proxies (none when running without a proxy). */
export function edgeViews(bound: TBoundProxy[], edges: readonly TShopEdge[] = SHOP_EDGE_LIST): TEdgeView[] {
  return edges.map((e) => ({
    name: e.name,
    from: e.from,
    to: e.to,
    kind: e.kind,
    proxies: bound
      .filter((p) => p.edge === e.name)
      .map((p) => ({ name: p.name, listen: p.listen, upstream: p.upstream, ...(p.instance ? { instance: p.instance } : {}) })),
  }));
}
