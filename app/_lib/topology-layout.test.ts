import { describe, expect, it } from 'vitest';
import { SHOP_EDGE_NAMES } from '../../shop/index.js';
import { columnsOf, edgesOfNames, layoutTopology } from './topology-layout.js';

// the shop's edges as its config lists them, and one of them per instance as its supervisor names proxies
const SHOP = edgesOfNames([...SHOP_EDGE_NAMES, 'orders->redis#0', 'orders->redis#1'], 'shop');

describe('topology layout', () => {
  it('puts each node in the column of its longest path from the entry side', () => {
    expect(Object.fromEntries(columnsOf(SHOP))).toEqual({ gateway: 0, users: 1, orders: 1, catalog: 2, payments: 2, redis: 3, postgres: 3 });
    // per-instance proxies are one edge
    expect(SHOP.filter((e) => e.from === 'orders' && e.to === 'redis')).toEqual([{ name: 'orders->redis', from: 'orders', to: 'redis' }]);
  });

  it('lays boxes out without overlap and draws forward edges right side to left side', () => {
    const l = layoutTopology(SHOP);
    for (const a of l.nodes)
      for (const b of l.nodes)
        if (a !== b) expect(a.x + a.w <= b.x || b.x + b.w <= a.x || a.y + a.h <= b.y || b.y + b.h <= a.y, `${a.name} / ${b.name}`).toBe(true);
    for (const n of l.nodes) expect(n.x + n.w <= l.width && n.y + n.h <= l.height).toBe(true);
    const e = l.edges.find((x) => x.name === 'gateway->orders')!;
    const [g, o] = ['gateway', 'orders'].map((n) => l.nodes.find((x) => x.name === n)!);
    expect([e.x1, e.x2]).toEqual([g!.x + g!.w, o!.x]);
  });

  it("orders a column by its callers' rows, so edges do not cross when they need not", () => {
    const l = layoutTopology(edgesOfNames(['a->z', 'b->y'], 's'));
    const y = (n: string) => l.nodes.find((x) => x.name === n)!.y;
    // by name z would sit below y and both edges would cross; a's callee goes first
    expect(y('a')).toBeLessThan(y('b'));
    expect(y('z')).toBeLessThan(y('y'));
  });

  it('a cycle is cut where it closes; a proxy without an arrow is an edge from the system', () => {
    expect(Object.fromEntries(columnsOf(edgesOfNames(['a->b', 'b->a'], 's')))).toEqual({ a: 0, b: 1 });
    expect(edgesOfNames(['postgres-proxy'], 'bank')).toEqual([{ name: 'postgres-proxy', from: 'bank', to: 'postgres-proxy' }]);
    expect(layoutTopology([])).toMatchObject({ nodes: [], edges: [], width: 16 });
  });
});
