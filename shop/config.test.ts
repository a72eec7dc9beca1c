import { describe, expect, it } from 'vitest';
import { SHOP_EDGE_LIST, SHOP_SERVICES, parseBugs, shopPort, shopPortBase } from './config.js';

describe('shop config', () => {
  it('places instance i of a service at base + offset + i', () => {
    expect(shopPort('gateway', 0, 8080)).toBe(8080);
    expect(shopPort('orders', 2, 8080)).toBe(8112);
    expect(shopPort('payments', 9, 9000)).toBe(9049);
    expect(() => shopPort('users', 10, 8080)).toThrow(/0\.\.9/);
    expect(shopPortBase({})).toBe(8080);
    expect(shopPortBase({ SHOP_PORT_BASE: '9000' })).toBe(9000);
    expect(() => shopPortBase({ SHOP_PORT_BASE: 'x' })).toThrow(/SHOP_PORT_BASE/);
  });

  it('lists each edge once, named <from>-><to>, from known services', () => {
    const names = SHOP_EDGE_LIST.map((e) => e.name);
    expect(new Set(names).size).toBe(names.length);
    for (const e of SHOP_EDGE_LIST) {
      expect(e.name).toBe(`${e.from}->${e.to}`);
      expect(SHOP_SERVICES).toContain(e.from);
      expect(e.kind === 'service' ? SHOP_SERVICES.includes(e.to as never) : e.kind === e.to).toBe(true);
    }
    expect(names).toEqual(
      expect.arrayContaining([
        'gateway->users',
        'gateway->catalog',
        'gateway->orders',
        'orders->catalog',
        'orders->payments',
        'orders->postgres',
        'orders->redis',
      ]),
    );
  });

  it('parses SHOP_BUGS and rejects unknown switches by name', () => {
    expect([...parseBugs(' oversell, lost-ack ,')]).toEqual(['oversell', 'lost-ack']);
    expect(parseBugs(undefined).size).toBe(0);
    expect(() => parseBugs('oversell,double-chrage')).toThrow(/"double-chrage"/);
  });
});
