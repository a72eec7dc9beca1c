import { describe, expect, it } from 'vitest';
import { HttpFaultSchema, isControlPath, pickFaults, type THttpFault } from './faults.js';

const fault = (f: Record<string, unknown>): THttpFault => ({ ...HttpFaultSchema.parse(f), id: String(f.id ?? 'f') });

describe('HTTP fault matching', () => {
  const req = { method: 'POST', routePattern: '/orders/:id/cancel', path: '/orders/42/cancel' };

  it('matches by route pattern or literal path, and by method (case-insensitive)', () => {
    expect(pickFaults([fault({ kind: 'abort', route: '/orders/:id/cancel' })], req)).toHaveLength(1);
    expect(pickFaults([fault({ kind: 'abort', route: '/orders/42/cancel' })], req)).toHaveLength(1);
    expect(pickFaults([fault({ kind: 'abort', route: '/orders/:id' })], req)).toHaveLength(0);
    expect(pickFaults([fault({ kind: 'abort', method: 'post' })], req)).toHaveLength(1);
    expect(pickFaults([fault({ kind: 'abort', method: 'GET' })], req)).toHaveLength(0);
  });

  it('applies the percentage with the given random source', () => {
    const f = fault({ kind: 'abort', percentage: 30 });
    expect(pickFaults([f], req, () => 0.29)).toHaveLength(1);
    expect(pickFaults([f], req, () => 0.3)).toHaveLength(0);
    let hits = 0;
    let seed = 1;
    const rand = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    for (let i = 0; i < 10_000; i++) hits += pickFaults([f], req, rand).length;
    expect(hits).toBeGreaterThan(2700);
    expect(hits).toBeLessThan(3300);
  });

  it('validates faults with field names and defaults', () => {
    const f = HttpFaultSchema.parse({ kind: 'delay', delayMs: 100 });
    expect(f).toMatchObject({ percentage: 100, at: 'request' });
    const r = HttpFaultSchema.safeParse({ kind: 'delay', status: 200 });
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => i.path.join('.')).sort()).toEqual(['delayMs', 'status']);
  });

  it('never touches control paths', () => {
    expect(isControlPath('/health')).toBe(true);
    expect(isControlPath('/metrics')).toBe(true);
    expect(isControlPath('/__admin/faults')).toBe(true);
    expect(isControlPath('/products')).toBe(false);
  });
});
