/**
 * The LogStore contract, run against every adapter (Postgres on the real
 * database, Elasticsearch on the in-memory fake): same records in, same
 * answers out.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogStore, TLogRecord } from '../types.js';

const T0 = Date.parse('2026-11-23T10:00:00.000Z');

function rec(i: number, over: Partial<TLogRecord> = {}): TLogRecord {
  return {
    time: new Date(T0 + i * 10),
    level: 'info',
    service: 'orders',
    instance: 'orders-0',
    msg: `request completed ${i}`,
    fields: { route: '/checkout', status: 201 },
    ...over,
  };
}

export function logStoreContract(name: string, setup: () => Promise<{ store: LogStore; teardown: () => Promise<void> }>): void {
  describe(`LogStore contract: ${name}`, () => {
    let store: LogStore;
    let teardown: () => Promise<void>;
    const runA = `run-a-${Math.random().toString(36).slice(2, 8)}`;
    const runB = `run-b-${Math.random().toString(36).slice(2, 8)}`;

    beforeAll(async () => {
      ({ store, teardown } = await setup());
      const batch: TLogRecord[] = [];
      for (let i = 0; i < 25; i++) batch.push(rec(i, { runId: runA }));
      batch.push(
        rec(30, {
          runId: runA,
          level: 'warn',
          service: 'payments',
          instance: 'payments-1',
          msg: 'circuit breaker opened',
          fields: { breaker: 'orders->payments', state: 'open' },
        }),
      );
      batch.push(
        rec(31, {
          runId: runA,
          level: 'error',
          service: 'payments',
          instance: 'payments-1',
          msg: 'charge failed upstream timeout',
          requestId: 'req-77',
          fields: { orderId: '9001' },
        }),
      );
      batch.push(rec(32, { runId: runB, level: 'error', service: 'orders', msg: 'saga compensation failed', fields: {} }));
      // a line on the next UTC day (another daily index in Elasticsearch)
      batch.push(rec(0, { runId: runB, time: new Date(T0 + 14 * 3600_000), msg: 'late line after midnight' }));
      const r = await store.writeBatch(batch);
      expect(r.written).toBe(batch.length);
    });
    afterAll(async () => {
      await store?.close();
      await teardown?.();
    });

    it('filters by run and returns lines oldest first', async () => {
      const p = await store.search({ runId: runA, limit: 1000 });
      expect(p.records).toHaveLength(27);
      const times = p.records.map((r) => r.time.getTime());
      expect(times).toEqual([...times].sort((a, b) => a - b));
      expect(p.next).toBeUndefined();
      expect(p.records.every((r) => r.runId === runA)).toBe(true);
    });

    it('round-trips every field of a record', async () => {
      const p = await store.search({ runId: runA, text: 'upstream timeout' });
      expect(p.records).toHaveLength(1);
      const r = p.records[0]!;
      expect(r).toMatchObject({
        level: 'error',
        service: 'payments',
        instance: 'payments-1',
        msg: 'charge failed upstream timeout',
        requestId: 'req-77',
        runId: runA,
        fields: { orderId: '9001' },
      });
      expect(r.time.toISOString()).toBe(new Date(T0 + 310).toISOString());
      expect(typeof r.id).toBe('string');
    });

    it('filters by service and minimum level', async () => {
      const warnUp = await store.search({ runId: runA, level: 'warn' });
      expect(warnUp.records.map((r) => r.level).sort()).toEqual(['error', 'warn']);
      const pay = await store.search({ service: 'payments', runId: runA });
      expect(pay.records).toHaveLength(2);
      const errors = await store.search({ level: 'error', runId: runB });
      expect(errors.records.map((r) => r.msg)).toEqual(['saga compensation failed']);
    });

    it('full-text search covers the message and the other fields, every word required', async () => {
      expect((await store.search({ runId: runA, text: 'breaker opened' })).records).toHaveLength(1);
      expect((await store.search({ runId: runA, text: 'breaker closed' })).records).toHaveLength(0);
      // a word only present in a field value
      expect((await store.search({ runId: runA, text: '9001' })).records.map((r) => r.requestId)).toEqual(['req-77']);
    });

    it('filters by time range [from, to)', async () => {
      const p = await store.search({ runId: runA, from: new Date(T0 + 50), to: new Date(T0 + 100) });
      expect(p.records.map((r) => r.msg)).toEqual([50, 60, 70, 80, 90].map((ms) => `request completed ${ms / 10}`));
      const late = await store.search({ from: new Date(T0 + 13 * 3600_000), runId: runB });
      expect(late.records.map((r) => r.msg)).toEqual(['late line after midnight']);
    });

    it('pages with a cursor without gaps or repeats', async () => {
      const seen: string[] = [];
      let cursor: string | undefined;
      for (let i = 0; i < 20; i++) {
        const p = await store.search({ runId: runA, limit: 4, ...(cursor ? { cursor } : {}) });
        seen.push(...p.records.map((r) => r.msg));
        cursor = p.next;
        if (!cursor) break;
      }
      expect(seen).toHaveLength(27);
      expect(new Set(seen).size).toBe(27);
    });

    it('rejects a bad query naming the field', async () => {
      await expect(store.search({ runId: runA, limit: 0 })).rejects.toMatchObject({ code: 'VALIDATION', issues: [expect.objectContaining({ path: 'limit' })] });
      await expect(store.search({ cursor: 'not-a-cursor' })).rejects.toMatchObject({
        code: 'VALIDATION',
        issues: [expect.objectContaining({ path: 'cursor' })],
      });
    });
  });
}
