/**
 * The nemesis planner, after Jepsen: expand an experiment's `nemesis` block
 * into timed faults for one run. Pure: the same block (seed), topology and
 * load duration always give the same schedule, so a failing seed replays.
 *
 *   seed ─▶ mulberry32 ─▶ for each slot: kind ─▶ target ─▶ duration ─▶ start
 *                                         └─ rejected while the target is busy
 *                                            or max_concurrent faults overlap
 *
 *   load:  |-- start_after --|====== faults land here ======|-- quiet_tail --|
 *
 * The topology (edges and instances) comes from the system under test at run
 * time — the shop's supervisor, or a target file's proxies and instances
 * (workers/runner/plan-faults.ts); only what exists is targeted.
 */
import { AppError } from '../core/errors.js';
import { FaultSpecSchema, type TFaultSpecInput } from '../chaos/index.js';
import { formatDuration, NEMESIS_ROUTE_RE, type TNemesis, type TNemesisKind, type TTimedFault } from './schema.js';
import { mulberry32 } from '../core/random.js';

/** An edge as the supervisor lists it (GET /edges). */
export interface TNemesisEdge {
  name: string;
  from: string;
  to: string;
}

/** An instance as the supervisor lists it (GET /instances). */
export interface TNemesisInstance {
  id: string;
  service: string;
}

export interface TNemesisTopology {
  edges: readonly TNemesisEdge[];
  instances: readonly TNemesisInstance[];
  /**
   * The kinds this system can take (a target file without a supervisor has no HTTP faults,
   * one without a pause command no pauses); a kind outside it is never drawn. @defaultValue every kind
   */
  kinds?: readonly TNemesisKind[];
}

/**
 * Routes an `http_abort` picks from when the block lists none: the shop's
 * inter-service calls (a 5xx there exercises a caller's retry, breaker and
 * compensation), plus the browse route the gateway serves from catalog.
 */
export const SHOP_NEMESIS_ROUTES: readonly string[] = [
  'catalog POST /reservations',
  'catalog POST /reservations/:orderId/commit',
  'catalog POST /reservations/:orderId/release',
  'catalog GET /products',
  'payments POST /charges',
  'payments POST /refunds',
  'orders POST /checkout',
  'orders GET /orders/:id',
];

/**
 * After a kill the supervisor restarts the instance (a few seconds on a busy
 * machine); the same instance is not targeted again before that, so a pause
 * never lands on an instance that is still starting (the supervisor refuses it).
 */
const RECOVERY_MS: Partial<Record<TNemesisKind, number>> = { kill: 5000, pause: 1000 };
/** Times are whole multiples of this: schedules read well and compare exactly. */
const GRID_MS = 100;
/** Draws per slot before it is left empty (the window is too crowded). */
const ATTEMPTS = 60;
/** One fault per this much of the active window when the block gives neither `count` nor `every`. */
export const DEFAULT_EVERY_MS = 4000;

export { mulberry32 };

interface TCandidate {
  kind: TNemesisKind;
  /** What the fault name says after the kind (`orders-payments`). */
  label: string;
  /** Resources the fault occupies: an edge, an instance, a route. No two faults share one at a time. */
  resources: string[];
  spec(durationMs: number, n: TNemesis): TFaultSpecInput;
}

interface TPlaced {
  at: number;
  end: number;
  /** Until when its resources stay busy (end + recovery). */
  busyUntil: number;
  c: TCandidate;
}

function slug(s: string): string {
  return s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

function invalid(path: string, message: string): AppError {
  return new AppError('VALIDATION', `nemesis: ${message}`, { issues: [{ path: `nemesis.${path}`, message }] });
}

/** Every fault the nemesis could draw, per kind, from what exists and is not excluded. */
export function nemesisCandidates(n: TNemesis, topo: TNemesisTopology): Map<TNemesisKind, TCandidate[]> {
  const excluded = new Set(n.exclude);
  const serviceOk = (s: string) => !excluded.has(s);
  const edges = topo.edges.filter((e) => !excluded.has(e.name) && serviceOk(e.from) && serviceOk(e.to));
  const instances = topo.instances.filter((i) => !excluded.has(i.id) && serviceOk(i.service));
  const services = new Set(instances.map((i) => i.service));
  const out = new Map<TNemesisKind, TCandidate[]>();
  for (const kind of n.kinds) {
    if (topo.kinds && !topo.kinds.includes(kind)) continue;
    const list: TCandidate[] = [];
    if (kind === 'latency' || kind === 'reset_peer' || kind === 'cut') {
      for (const e of edges)
        list.push({
          kind,
          label: slug(e.name),
          resources: [`edge:${e.name}`],
          spec: (_d, nb) =>
            kind === 'latency'
              ? { type: 'latency', target: e.name, params: { latencyMs: nb.latency_ms } }
              : kind === 'cut'
                ? { type: 'limit_data', target: e.name, params: { bytes: nb.cut_bytes, stream: 'upstream' } }
                : { type: 'reset_peer', target: e.name, params: { timeoutMs: 0 } },
        });
    } else if (kind === 'partition') {
      const into = new Map<string, string[]>();
      for (const e of edges) into.set(e.to, [...(into.get(e.to) ?? []), e.name]);
      for (const [node, names] of [...into.entries()].sort(([a], [b]) => a.localeCompare(b)))
        list.push({
          kind,
          label: slug(node),
          resources: names.map((x) => `edge:${x}`),
          spec: () => ({ type: 'partition', target: names, params: { mode: 'blackhole' } }),
        });
    } else if (kind === 'kill' || kind === 'pause') {
      for (const i of instances)
        list.push({
          kind,
          label: slug(i.id),
          resources: [`instance:${i.id}`],
          // held down for the whole fault; removing it at the end restarts the instance
          spec: (d) => (kind === 'kill' ? { type: 'kill', target: i.id, params: { holdMs: d } } : { type: 'pause', target: i.id, params: {} }),
        });
    } else {
      for (const r of n.routes ?? SHOP_NEMESIS_ROUTES) {
        const m = NEMESIS_ROUTE_RE.exec(r);
        if (!m || !services.has(m[1])) continue;
        const [, service, method, route] = m;
        list.push({
          kind,
          label: slug(`${service} ${method} ${route}`),
          resources: [`route:${r}`],
          spec: (_d, nb) => ({
            type: 'http_abort',
            target: service,
            params: { route, method: method as 'GET', status: nb.http_status, percentage: 100 },
          }),
        });
      }
    }
    if (list.length) out.set(kind, list);
  }
  return out;
}

/**
 * The nemesis schedule of one run: timed faults, ordered by start, named
 * `nemesis-<nn>-<kind>-<target>`. Every fault starts at or after
 * `start_after` and ends by `loadDurationMs - quiet_tail`; no two faults
 * share an edge, instance or route at a time (instances also get time to
 * come back after a kill); at most `max_concurrent` run at once. A slot
 * that finds no room after a bounded number of draws stays empty, so a
 * crowded window yields fewer faults than asked, never overlapping ones.
 *
 * Throws AppError VALIDATION naming the field when the window has no room
 * or no kind has a target.
 */
export function planNemesis(n: TNemesis, topo: TNemesisTopology, loadDurationMs: number): TTimedFault[] {
  const windowStart = n.start_after;
  const windowEnd = loadDurationMs - n.quiet_tail;
  if (windowEnd - windowStart < n.duration.min)
    throw invalid(
      'quiet_tail',
      `no room for a fault in the ${formatDuration(loadDurationMs)} load: start_after ${formatDuration(n.start_after)} and quiet_tail ${formatDuration(n.quiet_tail)} leave less than duration.min ${formatDuration(n.duration.min)}`,
    );
  const candidates = nemesisCandidates(n, topo);
  const kinds = n.kinds.filter((k) => candidates.has(k));
  if (kinds.length === 0) throw invalid('kinds', `none of ${n.kinds.join(', ')} has a target in this system (after exclude)`);

  const rand = mulberry32(n.seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  /** Uniform multiple of GRID_MS in [lo, hi]. */
  const onGrid = (lo: number, hi: number): number => {
    const a = Math.ceil(lo / GRID_MS);
    const b = Math.floor(hi / GRID_MS);
    return (a + Math.floor(rand() * (b - a + 1))) * GRID_MS;
  };

  const span = windowEnd - windowStart;
  const count = n.count ?? Math.max(1, Math.floor(span / (n.every ?? DEFAULT_EVERY_MS)));
  const maxDuration = Math.min(n.duration.max, span);
  const placed: TPlaced[] = [];
  for (let slot = 0; slot < count; slot++) {
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const kind = pick(kinds);
      const c = pick(candidates.get(kind)!);
      const duration = Math.max(GRID_MS, onGrid(n.duration.min, maxDuration));
      if (windowEnd - duration < windowStart) continue;
      const at = onGrid(windowStart, windowEnd - duration);
      const end = at + duration;
      const busyUntil = end + (RECOVERY_MS[kind] ?? 0);
      const clash = placed.some((p) => p.c.resources.some((r) => c.resources.includes(r)) && at < p.busyUntil && p.at < busyUntil);
      if (clash) continue;
      // conservative: every placed fault overlapping this one counts, even if they do not overlap each other
      const concurrent = placed.filter((p) => at < p.end && p.at < end).length;
      if (concurrent >= n.max_concurrent) continue;
      placed.push({ at, end, busyUntil, c });
      break;
    }
  }

  placed.sort((a, b) => a.at - b.at || a.c.label.localeCompare(b.c.label));
  const width = Math.max(2, String(placed.length).length);
  return placed.map((p, i) => {
    const kindLabel = p.c.kind === 'http_abort' ? `http-${n.http_status}` : slug(p.c.kind);
    const name = `nemesis-${String(i + 1).padStart(width, '0')}-${kindLabel}-${p.c.label}`.slice(0, 80).replace(/-+$/, '');
    return { name, at: p.at, duration: p.end - p.at, fault: FaultSpecSchema.parse(p.c.spec(p.end - p.at, n)) };
  });
}
