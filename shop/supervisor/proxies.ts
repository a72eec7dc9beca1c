/**
 * Fault proxies for the shop's edges on a Toxiproxy server (the real one or
 * faultline's compatible server): created in one `populate` call through
 * toxiproxy-node-client, removed on shutdown.
 */
import { Toxiproxy } from 'toxiproxy-node-client';
import { SupervisorError } from './errors.js';
import { portOfListen, type TBoundProxy, type TPlannedProxy } from './plan.js';

/** True when a Toxiproxy-compatible server answers `GET /version` at `url`. */
export async function toxiproxyAnswers(url: string, timeoutMs = 1000): Promise<boolean> {
  try {
    const r = await fetch(new URL('/version', url), { signal: AbortSignal.timeout(timeoutMs) });
    await r.body?.cancel();
    return r.ok;
  } catch {
    return false;
  }
}

/**
 * Create (or replace) the planned proxies and return them with their bound
 * listen address and the address services dial (`dialHost:<bound port>`).
 */
export async function populateProxies(toxiproxyUrl: string, planned: TPlannedProxy[], dialHost: string): Promise<TBoundProxy[]> {
  if (planned.length === 0) return [];
  const client = new Toxiproxy(toxiproxyUrl);
  let created: Awaited<ReturnType<Toxiproxy['populate']>>;
  try {
    created = await client.populate(planned.map((p) => ({ name: p.name, listen: p.listen, upstream: p.upstream, enabled: true })));
  } catch (e) {
    // The client drops the server's error body; say what was attempted and where.
    throw new SupervisorError('UNAVAILABLE', `could not create the shop's fault proxies on ${toxiproxyUrl}: ${describe(e)}`);
  }
  return planned.map((p) => {
    const proxy = created[p.name];
    if (!proxy) throw new SupervisorError('INTERNAL', `proxy server did not return proxy "${p.name}" from /populate`);
    return { ...p, listen: proxy.listen, dial: `${dialHost}:${portOfListen(proxy.listen)}` };
  });
}

/**
 * Delete proxies by name. Plain fetch, not the client: the client does not
 * URL-encode names, and `#` in `orders->payments#1` would be taken as a URL
 * fragment. Returns the names that could not be removed.
 */
export async function removeProxies(toxiproxyUrl: string, names: string[]): Promise<string[]> {
  const failed: string[] = [];
  await Promise.all(
    names.map(async (name) => {
      try {
        const r = await fetch(new URL(`/proxies/${encodeURIComponent(name)}`, toxiproxyUrl), {
          method: 'DELETE',
          signal: AbortSignal.timeout(3000),
        });
        await r.body?.cancel();
        if (!r.ok && r.status !== 404) failed.push(name);
      } catch {
        failed.push(name);
      }
    }),
  );
  return failed;
}

function describe(e: unknown): string {
  if (e instanceof Error) return e.message;
  if (typeof e === 'string') return e;
  return JSON.stringify(e);
}
