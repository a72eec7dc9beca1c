import { describe, expect, it } from 'vitest';
import { SHOP_EDGE_LIST } from '../../shop/index.js';
import { columnsOf, layoutTopology } from './topology-layout.js';

// the shop's edges as its config lists them
const SHOP = SHOP_EDGE_LIST.map(({ name, from, to }) => ({ name, from, to }));
const edges = (...names: string[]) => names.map((name) => ({ name, from: name.split('->')[0]!, to: name.split('->')[1]! }));

describe('topology layout', () => {
  it('puts each node in the column of its longest path from the entry side', () => {
    expect(Object.fromEntries(columnsOf(SHOP))).toEqual({ gateway: 0, users: 1, orders: 1, catalog: 2, payments: 2, redis: 3, postgres: 3 });
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
    const l = layoutTopology(edges('a->z', 'b->y'));
    const y = (n: string) => l.nodes.find((x) => x.name === n)!.y;
    // by name z would sit below y and both edges would cross; a's callee goes first
    expect(y('a')).toBeLessThan(y('b'));
    expect(y('z')).toBeLessThan(y('y'));
  });

  it('a cycle is cut where it closes; no edge, no graph', () => {
    expect(Object.fromEntries(columnsOf(edges('a->b', 'b->a')))).toEqual({ a: 0, b: 1 });
    expect(layoutTopology([])).toMatchObject({ nodes: [], edges: [], width: 16 });
  });
});
