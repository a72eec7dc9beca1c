/**
 * The console's handles on the platform modules (fault catalog, supervisor),
 * built from configuration. Route handlers call these, never the proxy or
 * the supervisor directly, and the browser never talks to either.
 */
import { haltAll, parseAllowedHosts, type THaltResult } from '../../chaos/index.js';
import { AppError } from '../../core/errors.js';
import { config, db } from './deps.js';

export async function haltEverything(): Promise<THaltResult> {
  const cfg = config();
  return haltAll({ toxiproxyUrl: cfg.TOXIPROXY_URL, supervisorUrl: cfg.SUPERVISOR_URL, db: db(), allowedHosts: parseAllowedHosts(cfg.FAULT_ALLOWED_HOSTS) });
}

export interface TInstance {
  id: string;
  service: string;
  index: number;
  pid: number | null;
  port: number;
  url: string;
  state: 'running' | 'paused' | 'stopped' | 'crashed' | 'starting';
  restarts: number;
  startedAt: string | null;
}

export interface TEdge {
  name: string;
  from: string;
  to: string;
  kind: 'service' | 'postgres' | 'redis';
  proxies: { name: string; listen: string; upstream: string; instance?: string }[];
}

/** GET a supervisor admin route, bounded; UNAVAILABLE when the shop is not up. */
export async function supervisorGet<T>(path: string, timeoutMs = 1500): Promise<T> {
  const base = config().SUPERVISOR_URL;
  try {
    const r = await fetch(`${base}${path}`, { signal: AbortSignal.timeout(timeoutMs) });
    if (!r.ok) throw new AppError('UNAVAILABLE', `supervisor answered ${r.status} on ${path}`);
    return (await r.json()) as T;
  } catch (e) {
    if (e instanceof AppError) throw e;
    throw new AppError('UNAVAILABLE', `shop supervisor not reachable at ${base} (start the shop: faultline up)`);
  }
}

/** Breaker states scraped from one instance's /metrics (`circuit_breaker_state`). */
export async function breakerStates(inst: TInstance, timeoutMs = 1000): Promise<{ breaker: string; state: number }[]> {
  try {
    const r = await fetch(`${inst.url}/metrics`, { signal: AbortSignal.timeout(timeoutMs) });
    if (!r.ok) return [];
    const text = await r.text();
    const out: { breaker: string; state: number }[] = [];
    for (const m of text.matchAll(/^circuit_breaker_state\{([^}]*)\}\s+([0-9.eE+-]+)/gm)) {
      const breaker = /breaker="([^"]*)"/.exec(m[1])?.[1];
      if (breaker) out.push({ breaker, state: Number(m[2]) });
    }
    return out;
  } catch {
    return [];
  }
}

export async function topology() {
  const [instances, edges] = await Promise.all([supervisorGet<TInstance[]>('/instances'), supervisorGet<TEdge[]>('/edges')]);
  const breakers = await Promise.all(instances.filter((i) => i.state === 'running').map(async (i) => ({ instance: i.id, service: i.service, states: await breakerStates(i) })));
  return { instances, edges, breakers };
}
