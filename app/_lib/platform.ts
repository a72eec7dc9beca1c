/**
 * The console's handles on the platform modules (fault catalog, supervisor),
 * built from configuration. Route handlers call these, never the proxy or
 * the supervisor directly, and the browser never talks to either.
 */
import { haltAll, parseAllowedHosts, type THaltResult } from '../../chaos/index.js';
import { toAppError } from '../../core/errors.js';
import { parseExposition, SupervisorClient, type TInstance } from '../../workers/collectors/index.js';
import { undoCommandFault } from '../../workers/targets/index.js';
import { config, db } from './deps.js';

export async function haltEverything(): Promise<THaltResult> {
  const cfg = config();
  return haltAll({
    toxiproxyUrl: cfg.TOXIPROXY_URL,
    supervisorUrl: cfg.SUPERVISOR_URL,
    db: db(),
    allowedHosts: parseAllowedHosts(cfg.FAULT_ALLOWED_HOSTS),
    undoCommand: undoCommandFault,
  });
}

/** The supervisor's own client (shop/supervisor/client.ts), bounded for a page load. */
function supervisor(timeoutMs = 1500): SupervisorClient {
  return new SupervisorClient({ url: config().SUPERVISOR_URL, timeoutMs });
}

/** Breaker states scraped from one instance's /metrics, read with the collectors' Prometheus parser. */
export async function breakerStates(inst: TInstance, timeoutMs = 1000): Promise<{ breaker: string; state: number }[]> {
  try {
    const r = await fetch(`${inst.url}/metrics`, { signal: AbortSignal.timeout(timeoutMs) });
    if (!r.ok) return [];
    return parseExposition(await r.text(), ['circuit_breaker_state'])
      .filter((x) => x.labels.breaker)
      .map((x) => ({ breaker: x.labels.breaker!, state: x.value }));
  } catch {
    return [];
  }
}

/** Instances, edges and breaker states of the running shop; UNAVAILABLE (named) when its supervisor does not answer. */
export async function topology() {
  const sup = supervisor();
  const [instances, edges] = await Promise.all([sup.instances(), sup.edges()]).catch((e: unknown) => {
    throw toAppError(e);
  });
  const breakers = await Promise.all(
    instances.filter((i) => i.state === 'running').map(async (i) => ({ instance: i.id, service: i.service, states: await breakerStates(i) })),
  );
  return { instances, edges, breakers };
}
