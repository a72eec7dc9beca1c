import { describe, expect, it } from 'vitest';
import { parseEdges, resolveServiceAddress, resolveUrl } from '../../lib/edges.js';
import { SHOP_EDGE_LIST } from '../../config.js';
import {
  defaultCounts,
  edgeViews,
  edgesEnvFor,
  hostPortOf,
  parseBugList,
  parseInstanceCounts,
  planInstances,
  planProxies,
  portOfListen,
  type TBoundProxy,
} from '../plan.js';
import { SupervisorError } from '../errors.js';
import { parseHttpFaultInput } from '../http-faults.js';

function issuesOf(fn: () => unknown): { path: string; message: string }[] {
  try {
    fn();
  } catch (e) {
    if (e instanceof SupervisorError) return e.issues;
    throw e;
  }
  throw new Error('expected a SupervisorError');
}

describe('parseInstanceCounts', () => {
  it('overrides the defaults of one instance per service', () => {
    expect(parseInstanceCounts('payments=2, orders=3')).toEqual({ ...defaultCounts(), payments: 2, orders: 3 });
    expect(parseInstanceCounts('')).toEqual(defaultCounts());
  });

  it('names every bad entry', () => {
    const issues = issuesOf(() => parseInstanceCounts('payments=-1,bogus=2,orders'));
    expect(issues).toEqual([
      { path: 'instances.payments', message: 'count must be an integer 0..10, got "-1"' },
      { path: 'instances.bogus', message: expect.stringContaining('unknown service') },
      { path: 'instances', message: '"orders" is not <service>=<count>' },
    ]);
    expect(issuesOf(() => parseInstanceCounts('payments=11'))[0].path).toBe('instances.payments');
  });
});

describe('parseBugList', () => {
  it('accepts the documented switches and rejects others by name', () => {
    expect(parseBugList('double-charge, oversell,double-charge')).toEqual(['double-charge', 'oversell']);
    expect(issuesOf(() => parseBugList('oversell,typo'))[0].message).toContain('"typo"');
  });
});

describe('planInstances', () => {
  it('puts instance i of a service at base + offset + i', () => {
    const plan = planInstances({ ...defaultCounts(), payments: 2 }, 9000);
    expect(plan.map((p) => [p.id, p.port])).toEqual([
      ['gateway-0', 9000],
      ['users-0', 9010],
      ['catalog-0', 9020],
      ['orders-0', 9030],
      ['payments-0', 9040],
      ['payments-1', 9041],
    ]);
  });

  it('rejects a port base that leaves no room for the blocks', () => {
    expect(issuesOf(() => planInstances(defaultCounts(), 65500))[0].path).toBe('portBase');
  });
});

describe('planProxies and SHOP_EDGES', () => {
  const instances = planInstances({ ...defaultCounts(), payments: 2 }, 9000);
  const planned = planProxies({
    instances,
    databaseUrl: 'postgres://postgres@db.local:5433/shop',
    redisUrl: 'redis://127.0.0.1:6379',
    listenHost: '127.0.0.1',
    advertiseHost: '127.0.0.1',
  });
  // what a proxy server would answer: each proxy bound on its own port
  const bound: TBoundProxy[] = planned.map((p, i) => ({ ...p, listen: `127.0.0.1:${30000 + i}`, dial: `127.0.0.1:${30000 + i}` }));

  it('creates one proxy per edge and target instance, named <from>-><to>[#i]', () => {
    const names = planned.map((p) => p.name);
    expect(names).toContain('orders->payments');
    expect(names).toContain('orders->payments#1');
    expect(names).toContain('gateway->orders');
    expect(names).not.toContain('orders->payments#2');
    // every non-service edge has exactly one proxy; service edges one per target instance
    const expected = SHOP_EDGE_LIST.reduce((n, e) => n + (e.kind === 'service' ? instances.filter((i) => i.service === e.to).length : 1), 0);
    expect(planned).toHaveLength(expected);
    expect(new Set(names).size).toBe(names.length);
    expect(planned.find((p) => p.name === 'orders->payments#1')).toMatchObject({ instance: 'payments-1', upstream: '127.0.0.1:9041', listen: '127.0.0.1:0' });
    expect(planned.find((p) => p.name === 'orders->postgres')?.upstream).toBe('db.local:5433');
    expect(planned.find((p) => p.name === 'catalog->redis')?.upstream).toBe('127.0.0.1:6379');
  });

  it('gives each service only its own edges, in the format shop/lib/edges.ts parses', () => {
    const env = edgesEnvFor('orders', bound);
    expect(Object.keys(env).sort()).toEqual(['orders->catalog', 'orders->payments', 'orders->postgres', 'orders->redis']);
    const parsed = parseEdges(JSON.stringify(env));
    const p1 = bound.find((p) => p.name === 'orders->payments#1')!;
    expect(resolveServiceAddress(parsed, 'orders->payments', 'payments-1', '127.0.0.1:9041')).toBe(p1.dial);
    const pg = bound.find((p) => p.name === 'orders->postgres')!;
    expect(resolveUrl(parsed, 'orders->postgres', 'postgres://postgres@db.local:5433/shop')).toBe(`postgres://postgres@${pg.dial}/shop`);
    expect(edgesEnvFor('payments', bound)).toEqual({ 'payments->postgres': bound.find((p) => p.name === 'payments->postgres')!.dial });
  });

  it('lists every edge, with no proxies when running direct', () => {
    const direct = edgeViews([]);
    expect(direct.map((e) => e.name)).toEqual(SHOP_EDGE_LIST.map((e) => e.name));
    expect(direct.every((e) => e.proxies.length === 0)).toBe(true);
    const withProxies = edgeViews(bound).find((e) => e.name === 'orders->payments')!;
    expect(withProxies.proxies.map((p) => p.instance)).toEqual(['payments-0', 'payments-1']);
  });

  it('reads ports from the addresses a proxy server reports', () => {
    expect(portOfListen('127.0.0.1:41234')).toBe(41234);
    expect(portOfListen('[::]:6003')).toBe(6003);
    expect(() => portOfListen('nonsense')).toThrow(/unusable listen address/);
    expect(hostPortOf('redis://redis', 6379)).toBe('redis:6379');
  });
});

describe('parseHttpFaultInput', () => {
  it('accepts an abort on a route and defaults the percentage', () => {
    expect(parseHttpFaultInput({ service: 'payments', route: '/charges', kind: 'abort', status: 503 })).toMatchObject({
      service: 'payments',
      percentage: 100,
      status: 503,
    });
  });

  it('names each bad field', () => {
    const issues = issuesOf(() => parseHttpFaultInput({ service: 'nope', kind: 'delay', percentage: 150 }));
    expect(issues.map((i) => i.path).sort()).toEqual(['delayMs', 'percentage', 'service']);
    expect(issuesOf(() => parseHttpFaultInput('x'))[0].path).toBe('');
  });
});
