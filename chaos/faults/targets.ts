/**
 * Target resolution: turn an edge / instance / service name into the
 * concrete proxies or instances it means, refusing unknown names
 * (AppError VALIDATION on `target`) and anything outside the allowlist
 * (AppError TARGET_NOT_ALLOWED) before a fault touches anything.
 */
import { AppError, toAppError } from '../../core/errors.js';
import { assertAddressAllowed, defaultAllowedHosts } from '../safety/allowlist.js';
import { SupervisorClient, type TInstance } from './supervisor-api.js';
import { ToxiproxyApi, type TProxyInfo } from './toxiproxy-api.js';
import type { TFaultContext } from './types.js';

export function allowedHostsOf(ctx: TFaultContext): readonly string[] {
  return ctx.allowedHosts ?? defaultAllowedHosts();
}

export function toxiproxyOf(ctx: TFaultContext): ToxiproxyApi {
  assertAddressAllowed(ctx.toxiproxyUrl, allowedHostsOf(ctx), 'toxiproxyUrl', 'the fault proxy API');
  return new ToxiproxyApi(ctx.toxiproxyUrl, ctx.requestTimeoutMs);
}

export function supervisorOf(ctx: TFaultContext): SupervisorClient {
  if (!ctx.supervisorUrl)
    throw new AppError('VALIDATION', 'this system has no faultline supervisor', {
      issues: [{ path: 'target', message: 'process and HTTP faults through a supervisor need one (the target declares none)' }],
    });
  assertAddressAllowed(ctx.supervisorUrl, allowedHostsOf(ctx), 'supervisorUrl', 'the shop supervisor API');
  return new SupervisorClient({ url: ctx.supervisorUrl, timeoutMs: ctx.requestTimeoutMs });
}

/** Edge base name of a proxy: `orders->payments#2` → `orders->payments`. */
export function edgeOfProxy(proxyName: string): string {
  return proxyName.replace(/#\d+$/, '');
}

function listForMessage(names: Iterable<string>): string {
  const all = [...names].sort();
  if (all.length === 0) return 'none';
  return all.length > 12 ? `${all.slice(0, 12).join(', ')}, … (${all.length} in all)` : all.join(', ');
}

/** The shop's edges (edge name → proxy names) and the fault proxy's proxies. */
export interface TNetworkView {
  edges: Map<string, string[]>;
  proxies: Map<string, TProxyInfo>;
  /** Where the edge list came from. */
  source: 'supervisor' | 'proxy-list';
}

/**
 * The supervisor's `GET /edges` is the shop's own list; when the supervisor
 * is not reachable (the proxy used on its own) the proxy list grouped by
 * edge name stands in.
 */
export async function loadNetworkView(ctx: TFaultContext): Promise<TNetworkView> {
  const tp = toxiproxyOf(ctx);
  const proxiesP = tp.list();
  // Awaited below; until then a fast failure (proxy down) must not surface as
  // an unhandled rejection that kills the process with a stack trace.
  proxiesP.catch(() => undefined);
  let edges: Map<string, string[]> | undefined;
  let source: TNetworkView['source'] = 'supervisor';
  // no supervisor (a target file's system): its edges are the proxies it has
  if (ctx.supervisorUrl)
    try {
      const list = await supervisorOf(ctx).edges();
      edges = new Map(list.map((e) => [e.name, e.proxies.map((p) => p.name)]));
    } catch (e) {
      const a = toAppError(e);
      if (a.code !== 'UNAVAILABLE' && a.code !== 'TIMEOUT' && a.code !== 'NOT_FOUND') throw a;
    }
  const proxies = await proxiesP;
  if (!edges) {
    source = 'proxy-list';
    edges = new Map();
    for (const name of proxies.keys()) {
      const base = edgeOfProxy(name);
      edges.set(base, [...(edges.get(base) ?? []), name]);
    }
  }
  return { edges, proxies, source };
}

function checkProxies(names: string[], view: TNetworkView, ctx: TFaultContext, field: string, edge: string): TProxyInfo[] {
  const out: TProxyInfo[] = [];
  for (const n of names) {
    const p = view.proxies.get(n);
    if (!p) {
      throw new AppError('VALIDATION', `edge "${edge}" has no proxy "${n}" on the fault proxy ${ctx.toxiproxyUrl}`, {
        issues: [{ path: field, message: `proxy "${n}" of edge "${edge}" does not exist on the fault proxy` }],
      });
    }
    assertAddressAllowed(p.upstream, allowedHostsOf(ctx), field, `upstream of proxy "${n}"`);
    out.push(p);
  }
  return out;
}

/** Every proxy of an edge (`orders->payments`), or the one proxy of `orders->payments#<i>`. */
export function resolveEdge(target: string, view: TNetworkView, ctx: TFaultContext, field = 'target'): TProxyInfo[] {
  const m = /^(.*?)(?:#(\d+))?$/.exec(target)!;
  const base = m[1];
  const proxies = view.edges.get(base);
  if (!proxies) {
    throw new AppError('VALIDATION', `unknown edge "${base}"`, {
      issues: [{ path: field, message: `unknown edge "${base}"; known edges: ${listForMessage(view.edges.keys())}` }],
    });
  }
  if (proxies.length === 0) {
    throw new AppError('VALIDATION', `edge "${base}" runs direct, without a fault proxy`, {
      issues: [{ path: field, message: `edge "${base}" has no proxy (the shop was started without a fault proxy); network faults need one` }],
    });
  }
  let names = proxies;
  if (m[2] !== undefined) {
    // Instance 0's proxy carries the bare edge name (docs/architecture.md).
    const wanted = m[2] === '0' ? base : target;
    names = proxies.filter((p) => p === wanted);
    if (names.length === 0) {
      throw new AppError('VALIDATION', `edge "${base}" has no proxy for instance ${m[2]}`, {
        issues: [{ path: field, message: `edge "${base}" has no proxy "${target}"; its proxies: ${listForMessage(proxies)}` }],
      });
    }
  }
  return checkProxies(names, view, ctx, field, base);
}

/** Partition targets: edge names where `*` stands for any service; each pattern must match at least one edge. */
export function resolveEdgePatterns(patterns: string[], view: TNetworkView, ctx: TFaultContext): TProxyInfo[] {
  const seen = new Map<string, TProxyInfo>();
  patterns.forEach((pattern, i) => {
    const field = `target.${i}`;
    const [from, to] = pattern.split('->');
    const matched = [...view.edges.keys()].filter((e) => {
      const [ef, et] = e.split('->');
      return (from === '*' || from === ef) && (to === '*' || to === et);
    });
    if (matched.length === 0) {
      throw new AppError('VALIDATION', `no edge matches "${pattern}"`, {
        issues: [{ path: field, message: `no edge matches "${pattern}"; known edges: ${listForMessage(view.edges.keys())}` }],
      });
    }
    for (const e of matched) for (const p of resolveEdge(e, view, ctx, field)) seen.set(p.name, p);
  });
  return [...seen.values()];
}

function checkInstance(inst: TInstance, ctx: TFaultContext, field: string): TInstance {
  if (inst.url) assertAddressAllowed(inst.url, allowedHostsOf(ctx), field, `instance "${inst.id}"`);
  return inst;
}

export function resolveInstance(id: string, instances: TInstance[], ctx: TFaultContext, field = 'target'): TInstance {
  const inst = instances.find((i) => i.id === id);
  if (!inst) {
    throw new AppError('VALIDATION', `unknown instance "${id}"`, {
      issues: [{ path: field, message: `unknown instance "${id}"; known instances: ${listForMessage(instances.map((i) => i.id))}` }],
    });
  }
  return checkInstance(inst, ctx, field);
}

export function resolveService(service: string, instances: TInstance[], ctx: TFaultContext, field = 'target'): TInstance[] {
  const mine = instances.filter((i) => i.service === service);
  if (mine.length === 0) {
    throw new AppError('VALIDATION', `unknown service "${service}"`, {
      issues: [{ path: field, message: `unknown service "${service}"; known services: ${listForMessage(new Set(instances.map((i) => i.service)))}` }],
    });
  }
  return mine.map((i) => checkInstance(i, ctx, field));
}
