import { describe, expect, it } from 'vitest';
import { parseEdges, resolveServiceAddress, resolveUrl } from './edges.js';

describe('SHOP_EDGES', () => {
  const raw = JSON.stringify({
    'orders->payments': { 'payments-0': '127.0.0.1:18301', 'payments-1': '127.0.0.1:18302' },
    'orders->postgres': '127.0.0.1:18310',
    'orders->redis': '127.0.0.1:18311',
  });

  it('parses the documented shape; empty or missing means every edge direct', () => {
    expect(parseEdges(raw)['orders->postgres']).toBe('127.0.0.1:18310');
    expect(parseEdges(undefined)).toEqual({});
    expect(parseEdges('  ')).toEqual({});
  });

  it('names the bad field', () => {
    expect(() => parseEdges('{"orders->payments":{"payments-0":"nope"}}')).toThrow(/SHOP_EDGES\.orders->payments/);
    expect(() => parseEdges('{"orders_payments":"127.0.0.1:1"}')).toThrow(/<from>-><to>/);
    expect(() => parseEdges('{not json')).toThrow(/not valid JSON/);
  });

  it('resolves a service instance to its proxy, others direct', () => {
    const e = parseEdges(raw);
    expect(resolveServiceAddress(e, 'orders->payments', 'payments-1', '127.0.0.1:8121')).toBe('127.0.0.1:18302');
    expect(resolveServiceAddress(e, 'orders->payments', 'payments-2', '127.0.0.1:8122')).toBe('127.0.0.1:8122');
    expect(resolveServiceAddress(e, 'orders->catalog', 'catalog-0', '127.0.0.1:8100')).toBe('127.0.0.1:8100');
  });

  it('replaces only host:port of postgres and redis URLs', () => {
    const e = parseEdges(raw);
    expect(resolveUrl(e, 'orders->postgres', 'postgres://postgres:pw@db.local:5432/faultline_shop?sslmode=disable')).toBe(
      'postgres://postgres:pw@127.0.0.1:18310/faultline_shop?sslmode=disable',
    );
    expect(resolveUrl(e, 'orders->redis', 'redis://127.0.0.1:6379/2')).toBe('redis://127.0.0.1:18311/2');
    expect(resolveUrl(e, 'catalog->postgres', 'postgres://postgres@127.0.0.1:5432/x')).toBe('postgres://postgres@127.0.0.1:5432/x');
  });
});
