import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../core/errors.js';
import { SHOP_EDGE_LIST } from '../../shop/config.js';
import { fetchTopology, resolveFaults } from '../../workers/runner/plan-faults.js';
import {
  listExperiments,
  mulberry32,
  NemesisSchema,
  parseExperiment,
  planNemesis,
  type TNemesisInput,
  type TNemesisTopology,
  type TTimedFault,
} from '../index.js';

/** The shop as `faultline run` starts it: one instance per service, two of payments. */
const SHOP: TNemesisTopology = {
  edges: SHOP_EDGE_LIST.map((e) => ({ name: e.name, from: e.from, to: e.to })),
  instances: ['gateway-0', 'users-0', 'catalog-0', 'orders-0', 'payments-0', 'payments-1'].map((id) => ({ id, service: id.replace(/-\d+$/, '') })),
};
const LOAD_MS = 60_000;

const nemesis = (o: Partial<TNemesisInput> = {}) => NemesisSchema.parse({ seed: 7, count: 12, ...o });

/** Edges, instances and routes a fault occupies (what "the same target" means). */
function resourcesOf(f: TTimedFault): string[] {
  const s = f.fault;
  if (s.type === 'partition') return s.target.map((t) => `edge:${t}`);
  if (s.type === 'kill' || s.type === 'pause') return [`instance:${s.target}`];
  if (s.type === 'http_abort') return [`route:${s.target} ${s.params.method} ${s.params.route}`];
  return [`edge:${s.target}`];
}

function issuesOf(fn: () => unknown): AppError['issues'] {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(AppError);
    return (e as AppError).issues;
  }
  throw new Error('expected a validation error');
}

describe('mulberry32', () => {
  it('is deterministic per seed and spreads over [0, 1)', () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    const xs = Array.from({ length: 1000 }, () => a());
    expect(Array.from({ length: 1000 }, () => b())).toEqual(xs);
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    // every tenth of the range is hit: not stuck in a corner
    expect(new Set(xs.map((x) => Math.floor(x * 10))).size).toBe(10);
    expect(mulberry32(43)()).not.toBe(mulberry32(42)());
  });
});

describe('planNemesis', () => {
  it('gives the identical schedule for the same seed and topology', () => {
    const a = planNemesis(nemesis(), SHOP, LOAD_MS);
    const b = planNemesis(nemesis(), { edges: [...SHOP.edges], instances: [...SHOP.instances] }, LOAD_MS);
    expect(a.length).toBeGreaterThan(0);
    expect(b).toEqual(a);
  });

  it('gives different schedules for different seeds', () => {
    const schedules = [1, 2, 3, 4, 5].map((seed) => JSON.stringify(planNemesis(nemesis({ seed }), SHOP, LOAD_MS)));
    expect(new Set(schedules).size).toBe(5);
  });

  it('keeps every fault inside the window: after start_after, before the quiet tail, durations in range', () => {
    for (let seed = 0; seed < 40; seed++) {
      const n = nemesis({ seed, start_after: '4s', quiet_tail: '10s', duration: { min: '1s', max: '3s' } });
      const plan = planNemesis(n, SHOP, LOAD_MS);
      expect(plan.length).toBeGreaterThan(0);
      for (const f of plan) {
        expect(f.at, f.name).toBeGreaterThanOrEqual(4000);
        expect(f.at + f.duration, f.name).toBeLessThanOrEqual(LOAD_MS - 10_000);
        expect(f.duration, f.name).toBeGreaterThanOrEqual(1000);
        expect(f.duration, f.name).toBeLessThanOrEqual(3000);
      }
      expect(plan.map((f) => f.at)).toEqual([...plan.map((f) => f.at)].sort((x, y) => x - y));
    }
  });

  it('never puts two faults on one target at once, nor more than max_concurrent at any time', () => {
    for (let seed = 0; seed < 40; seed++) {
      const plan = planNemesis(nemesis({ seed, count: 30, max_concurrent: 3 }), SHOP, LOAD_MS);
      for (const [i, a] of plan.entries())
        for (const b of plan.slice(i + 1)) {
          const overlap = a.at < b.at + b.duration && b.at < a.at + a.duration;
          if (overlap)
            expect(
              resourcesOf(a).filter((r) => resourcesOf(b).includes(r)),
              `${a.name} / ${b.name}`,
            ).toEqual([]);
        }
      for (const f of plan) {
        // faults running at the instant f starts (f included)
        const running = plan.filter((g) => g.at <= f.at && f.at < g.at + g.duration).length;
        expect(running, f.name).toBeLessThanOrEqual(3);
      }
    }
  });

  it('targets only edges, instances and services that exist, minus the excluded ones', () => {
    const small: TNemesisTopology = {
      edges: SHOP.edges.filter((e) => e.from !== 'payments' && e.to !== 'payments'),
      instances: SHOP.instances.filter((i) => i.service !== 'payments'),
    };
    const edgeNames = new Set(small.edges.map((e) => e.name));
    const ids = new Set(small.instances.map((i) => i.id));
    const seen = new Set<string>();
    for (let seed = 0; seed < 30; seed++) {
      const plan = planNemesis(nemesis({ seed, count: 10, exclude: ['gateway', 'orders->redis'] }), small, LOAD_MS);
      for (const f of plan) {
        const s = f.fault;
        seen.add(s.type);
        expect(JSON.stringify(s), f.name).not.toMatch(/payments|gateway|orders->redis/);
        if (s.type === 'latency' || s.type === 'reset_peer') expect(edgeNames.has(s.target), f.name).toBe(true);
        else if (s.type === 'partition') for (const t of s.target) expect(edgeNames.has(t), f.name).toBe(true);
        else if (s.type === 'kill' || s.type === 'pause') expect(ids.has(s.target), f.name).toBe(true);
        else if (s.type === 'http_abort') expect(new Set(small.instances.map((i) => i.service)).has(s.target), f.name).toBe(true);
        else throw new Error(`unexpected fault type ${s.type}`);
      }
    }
    expect([...seen].sort()).toEqual(['http_abort', 'kill', 'latency', 'partition', 'pause', 'reset_peer']);
  });

  it('sizes each fault from the block: latency_ms, kill held for the fault, 5xx on one route, partition of a whole node', () => {
    const plan = planNemesis(nemesis({ count: 40, latency_ms: 3500, http_status: 502 }), SHOP, 120_000);
    const byType = (t: string) => plan.filter((f) => f.fault.type === t);
    for (const f of byType('latency')) expect(f.fault).toMatchObject({ params: { latencyMs: 3500 } });
    for (const f of byType('kill')) expect(f.fault).toMatchObject({ params: { holdMs: f.duration } });
    for (const f of byType('http_abort')) {
      expect(f.fault).toMatchObject({ params: { status: 502, percentage: 100 } });
      expect(f.fault.params).toHaveProperty('route');
      expect(f.fault.params).toHaveProperty('method');
    }
    for (const f of byType('partition')) {
      const s = f.fault as Extract<TTimedFault['fault'], { type: 'partition' }>;
      const to = new Set(s.target.map((t) => t.split('->')[1]));
      expect(to.size).toBe(1);
      expect(s.target.length).toBe(SHOP.edges.filter((e) => e.to === [...to][0]).length);
    }
    for (const f of plan) expect(f.name).toMatch(/^nemesis-\d{2}-[a-z0-9-]+$/);
    expect(plan.map((f) => f.name)).toEqual(plan.map((_, i) => expect.stringMatching(new RegExp(`^nemesis-${String(i + 1).padStart(2, '0')}-`))));
    const latency = byType('latency');
    expect(latency.length).toBeGreaterThan(0);
    for (const f of latency) expect(f.name.endsWith(`-latency-${(f.fault.target as string).replace('->', '-')}`), f.name).toBe(true);
  });

  it('draws the opt-in cut only when listed: limit_data upstream of cut_bytes on an edge, and never by default', () => {
    const kinds = new Set<string>();
    for (let seed = 0; seed < 40; seed++) for (const f of planNemesis(nemesis({ seed }), SHOP, LOAD_MS)) kinds.add(f.fault.type);
    expect(kinds.has('limit_data')).toBe(false);
    const edgeNames = new Set(SHOP.edges.map((e) => e.name));
    const plan = planNemesis(nemesis({ seed: 3, kinds: ['cut'], cut_bytes: 1500 }), SHOP, LOAD_MS);
    expect(plan.length).toBeGreaterThan(0);
    for (const f of plan) {
      expect(f.name).toMatch(/^nemesis-\d+-cut-/);
      expect(f.fault).toMatchObject({ type: 'limit_data', params: { bytes: 1500, stream: 'upstream' } });
      expect(edgeNames.has(f.fault.target as string), f.name).toBe(true);
    }
    expect(NemesisSchema.parse({ seed: 1 }).cut_bytes).toBe(2000);
    expect(NemesisSchema.safeParse({ seed: 1, cut_bytes: 0 }).success).toBe(false);
  });

  it('draws only the listed kinds, and every (count from every)', () => {
    const plan = planNemesis(nemesis({ count: undefined, every: '5s', kinds: ['kill', 'pause'] }), SHOP, 40_000);
    expect(plan.length).toBeGreaterThan(0);
    // window 3s..35s = 32 s, one per 5 s → at most 6 slots
    expect(plan.length).toBeLessThanOrEqual(6);
    for (const f of plan) expect(['kill', 'pause']).toContain(f.fault.type);
  });

  it('refuses a load too short for the window, and kinds with no target, naming the field', () => {
    expect(issuesOf(() => planNemesis(nemesis({ quiet_tail: '20s', start_after: '5s' }), SHOP, 25_000))[0].path).toBe('nemesis.quiet_tail');
    const noInstances = { edges: [], instances: [] };
    expect(issuesOf(() => planNemesis(nemesis({ kinds: ['kill', 'latency'] }), noInstances, LOAD_MS))[0].path).toBe('nemesis.kinds');
  });
});

describe('shipped nemesis experiments', () => {
  it('plan a schedule on the shop that uses most kinds and keeps the quiet tail', async () => {
    const shipped = (await listExperiments()).filter((x) => x.experiment.nemesis);
    expect(shipped.map((x) => x.experiment.name).sort()).toEqual(['nemesis', 'nemesis-short']);
    for (const { experiment: e } of shipped) {
      const plan = planNemesis(e.nemesis!, SHOP, e.load.duration!);
      expect(plan.length, e.name).toBeGreaterThanOrEqual(5);
      expect(new Set(plan.map((f) => f.fault.type)).size, e.name).toBeGreaterThanOrEqual(4);
      for (const f of plan) expect(f.at + f.duration, f.name).toBeLessThanOrEqual(e.load.duration! - e.nemesis!.quiet_tail);
      // latency past the shop's 2 s call timeout (SHOP_CLIENT_TIMEOUT_MS)
      expect(e.nemesis!.latency_ms, e.name).toBeGreaterThan(2000);
    }
  });
});

describe('resolveFaults', () => {
  const yaml = `name: n
description: d
load:
  scenario: checkout-mix
  duration: 30s
steady_state:
  slos:
    - name: a
      route: GET /products
      sli: availability
      objective: 50
faults:
  - name: slow
    at: 1s
    duration: 2s
    fault:
      type: latency
      target: orders->payments
      params:
        latencyMs: 3000
nemesis:
  seed: 11
  count: 5
`;

  it('returns the own faults plus the expanded schedule, ordered by start, the same on every call', async () => {
    const e = parseExperiment(yaml);
    const ctx = { loadDurationMs: 30_000, topology: SHOP };
    const a = await resolveFaults(e, ctx);
    expect(a[0].name).toBe('slow');
    expect(a.filter((f) => f.name.startsWith('nemesis-')).length).toBeGreaterThan(0);
    expect(a.map((f) => f.at)).toEqual([...a.map((f) => f.at)].sort((x, y) => x - y));
    expect(await resolveFaults(e, ctx)).toEqual(a);
  });

  it('returns only the own faults without a nemesis block, without asking for the topology', async () => {
    const e = parseExperiment(yaml.replace(/nemesis:[\s\S]*$/, ''));
    const topology = () => Promise.reject(new Error('the topology was asked for'));
    expect((await resolveFaults(e, { topology, loadDurationMs: 30_000 })).map((f) => f.name)).toEqual(['slow']);
  });

  it('draws only the kinds the system can take (a target without a supervisor has no HTTP faults)', async () => {
    const e = parseExperiment(yaml.replace('count: 5', 'count: 8'));
    const plan = (await resolveFaults(e, { topology: { ...SHOP, kinds: ['latency', 'kill'] }, loadDurationMs: 30_000 })).filter((f) =>
      f.name.startsWith('nemesis-'),
    );
    expect(plan.length).toBeGreaterThan(0);
    expect(new Set(plan.map((f) => f.fault.type))).toEqual(new Set(['latency', 'kill']));
    await expect(resolveFaults(e, { topology: { ...SHOP, kinds: [] }, loadDurationMs: 30_000 })).rejects.toMatchObject({
      issues: [expect.objectContaining({ path: 'nemesis.kinds', message: expect.stringMatching(/has a target in this system/) })],
    });
  });

  it('fetches the topology from the supervisor (GET /edges, GET /instances) and plans on it', async () => {
    const asked: string[] = [];
    const server = http.createServer((req, res) => {
      asked.push(req.url ?? '');
      const body =
        req.url === '/edges'
          ? [{ name: 'orders->payments', from: 'orders', to: 'payments', kind: 'service', proxies: [] }]
          : [{ id: 'payments-0', service: 'payments', index: 0, pid: 4242, port: 7301, url: 'http://127.0.0.1:7301', state: 'running', restarts: 0 }];
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(body));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const e = parseExperiment(yaml.replace('count: 5', 'count: 5\n  kinds: [latency, kill]'));
      const plan = (await resolveFaults(e, { topology: () => fetchTopology(url), loadDurationMs: 30_000 })).filter((f) => f.name.startsWith('nemesis-'));
      expect(asked.sort()).toEqual(['/edges', '/instances']);
      expect(plan.length).toBeGreaterThan(0);
      for (const f of plan) expect(['orders->payments', 'payments-0']).toContain(f.fault.target);
    } finally {
      server.close();
    }
  });

  it('names the supervisor when the topology cannot be fetched', async () => {
    const e = parseExperiment(yaml);
    await expect(resolveFaults(e, { topology: () => fetchTopology('http://127.0.0.1:9'), loadDurationMs: 30_000 })).rejects.toThrow(/supervisor/);
  });
});
