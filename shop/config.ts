/**
 * The shop's static shape: services, ports and every outbound edge.
 *
 * The supervisor creates one fault proxy per (edge, target instance) from
 * SHOP_EDGE_LIST; services resolve every outbound address through SHOP_EDGES
 * (see lib/edges.ts). An edge missing from SHOP_EDGES is direct.
 */

export const SHOP_SERVICES = ['gateway', 'users', 'catalog', 'orders', 'payments'] as const;
export type TShopService = (typeof SHOP_SERVICES)[number];

/** Port offset of instance 0 of each service from SHOP_PORT_BASE. */
export const SHOP_PORT_OFFSETS: Record<TShopService, number> = {
  gateway: 0,
  users: 10,
  catalog: 20,
  orders: 30,
  payments: 40,
};

/** At most this many instances per service (the port block is 10 wide). */
export const SHOP_MAX_INSTANCES = 10;

export const SHOP_DEFAULT_PORT_BASE = 8080;

/** Port of instance `index` of `service` for a given base (default SHOP_PORT_BASE or 8080). */
export function shopPort(service: TShopService, index: number, base: number = shopPortBase()): number {
  if (!Number.isInteger(index) || index < 0 || index >= SHOP_MAX_INSTANCES) {
    throw new RangeError(`instance index must be 0..${SHOP_MAX_INSTANCES - 1}, got ${index}`);
  }
  return base + SHOP_PORT_OFFSETS[service] + index;
}

export function shopPortBase(env: Record<string, string | undefined> = process.env): number {
  const raw = env.SHOP_PORT_BASE;
  if (raw === undefined || raw === '') return SHOP_DEFAULT_PORT_BASE;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 65535 - 50) throw new RangeError(`SHOP_PORT_BASE must be a port number, got "${raw}"`);
  return n;
}

/** Instance id as used in logs, the registry, SHOP_EDGES and the supervisor: `payments-1`. */
export function instanceId(service: TShopService, index: number): string {
  return `${service}-${index}`;
}

export type TEdgeKind = 'service' | 'postgres' | 'redis';

export interface TShopEdge {
  /** `<from>-><to>`, also the proxy name and the circuit breaker name. */
  name: string;
  from: TShopService;
  to: TShopService | 'postgres' | 'redis';
  kind: TEdgeKind;
}

function edge(from: TShopService, to: TShopEdge['to']): TShopEdge {
  const kind: TEdgeKind = to === 'postgres' ? 'postgres' : to === 'redis' ? 'redis' : 'service';
  return { name: `${from}->${to}`, from, to, kind };
}

/**
 * Every outbound edge the shop uses. The registry's heartbeats are not an
 * edge: they use a direct control-plane Redis connection, so a Redis fault
 * hits the data plane (queues, cache) but not discovery.
 */
export const SHOP_EDGE_LIST: readonly TShopEdge[] = [
  edge('gateway', 'users'),
  edge('gateway', 'catalog'),
  edge('gateway', 'orders'),
  edge('orders', 'catalog'),
  edge('orders', 'payments'),
  edge('users', 'postgres'),
  edge('catalog', 'postgres'),
  edge('catalog', 'redis'),
  edge('orders', 'postgres'),
  edge('orders', 'redis'),
  edge('payments', 'postgres'),
];

export const SHOP_EDGE_NAMES: readonly string[] = SHOP_EDGE_LIST.map((e) => e.name);

/** Deliberate defects the platform must detect; enabled by SHOP_BUGS (comma list). */
export const SHOP_BUGS = [
  'double-charge',
  'missing-compensation',
  'breaker-disabled',
  'lost-ack',
  'oversell',
  'consume-before-commit',
  'confirm-outside-tx',
] as const;
export type TShopBug = (typeof SHOP_BUGS)[number];

/** What each bug switch breaks, for README and the console. */
export const SHOP_BUG_DESCRIPTIONS: Record<TShopBug, string> = {
  'double-charge': 'payments ignores Idempotency-Key, so a retried charge (e.g. after a client timeout) captures again',
  'missing-compensation': 'a failed saga does not release its stock reservation (stock leak)',
  'breaker-disabled': 'circuit breakers never open: calls keep hitting a dead or slow dependency',
  'lost-ack':
    'orders acknowledges a checkout (201 confirmed) before recording the capture and confirmation (write-behind); a crash loses them and the order ends failed',
  oversell: 'catalog reserves stock with an unlocked read-modify-write, so concurrent reservations oversell',
  'consume-before-commit':
    "the order-events consumer records a message as handled (inbox) before committing its effect; a failure between the two loses the stock commit, so a confirmed order's stock stays reserved forever",
  'confirm-outside-tx':
    'orders confirms the order (and acknowledges it) in one statement and writes the saga completion and the order.confirmed event in a later one; a failure between them leaves a confirmed order whose event is never published (stock stays reserved, saga never terminal)',
};

/** Parse SHOP_BUGS; unknown names are an error naming the bad entry. */
export function parseBugs(raw: string | undefined): Set<TShopBug> {
  const out = new Set<TShopBug>();
  if (!raw) return out;
  for (const part of raw.split(',')) {
    const name = part.trim();
    if (!name) continue;
    if (!(SHOP_BUGS as readonly string[]).includes(name)) {
      throw new Error(`SHOP_BUGS: unknown bug switch "${name}" (known: ${SHOP_BUGS.join(', ')})`);
    }
    out.add(name as TShopBug);
  }
  return out;
}

export const SHOP_DEFAULTS = {
  databaseUrl: 'postgres://postgres@127.0.0.1:5432/faultline_shop',
  redisUrl: 'redis://127.0.0.1:6379',
  registryPrefix: 'shop:registry',
  registryTtlMs: 3000,
  /** BullMQ prefix of the shop's queues. */
  queuePrefix: 'shop',
  /** Payments declines any charge above this amount (the documented "declined card" rule). */
  paymentLimitCents: 500_000,
} as const;
