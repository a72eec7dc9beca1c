/**
 * SHOP_EDGES: where each outbound edge really goes.
 *
 *   {"orders->payments": {"payments-0": "127.0.0.1:18301", "payments-1": "127.0.0.1:18302"},
 *    "orders->postgres": "127.0.0.1:18310", "orders->redis": "127.0.0.1:18311"}
 *
 * Service edge: target instance id -> proxy host:port (instances not listed
 * are called directly). Postgres/Redis edge: the host:port that replaces the
 * host:port of SHOP_DATABASE_URL / REDIS_URL. A missing edge is direct.
 */
import { z } from 'zod';

const HostPort = z.string().regex(/^[A-Za-z0-9.\-_[\]:]+:\d{1,5}$/, 'expected "host:port"');

export const EdgesSchema = z.record(z.string(), z.union([HostPort, z.record(z.string().min(1), HostPort)])).superRefine((edges, ctx) => {
  for (const name of Object.keys(edges)) {
    if (!/^[a-z]+->[a-z]+$/.test(name)) ctx.addIssue({ code: 'custom', path: [name], message: 'edge name must be "<from>-><to>"' });
  }
});
export type TEdges = z.infer<typeof EdgesSchema>;

/** Parse the SHOP_EDGES JSON; throws an Error naming the bad field. */
export function parseEdges(raw: string | undefined): TEdges {
  if (raw === undefined || raw.trim() === '') return {};
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (e) {
    throw new Error(`SHOP_EDGES is not valid JSON: ${(e as Error).message}`);
  }
  const r = EdgesSchema.safeParse(json);
  if (!r.success) {
    const issues = r.error.issues.map((i) => `SHOP_EDGES.${i.path.join('.')}: ${i.message}`);
    throw new Error(issues.join('; '));
  }
  return r.data;
}

/**
 * Address to dial for a call over service edge `edge` to `targetInstance`
 * whose own address is `direct` (host:port). Returns the proxy when the edge
 * routes that instance through one.
 */
export function resolveServiceAddress(edges: TEdges, edge: string, targetInstance: string, direct: string): string {
  const e = edges[edge];
  if (e === undefined || typeof e === 'string') return direct;
  return e[targetInstance] ?? direct;
}

/** Replace the host:port of a postgres:// or redis:// URL by the edge's proxy address, if any. */
export function resolveUrl(edges: TEdges, edge: string, url: string): string {
  const e = edges[edge];
  if (typeof e !== 'string') return url;
  const u = new URL(url);
  const i = e.lastIndexOf(':');
  u.hostname = e.slice(0, i).replace(/^\[|\]$/g, '');
  u.port = e.slice(i + 1);
  return u.toString();
}
