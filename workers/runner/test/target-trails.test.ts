/**
 * Trails of a target's violations from its stored log lines: the ids a
 * violation names (its ids, the id field's column, the columns of `show`)
 * and the run's lines whose id field equals one of them — not the lines
 * that merely mention it, nor another run's.
 */
import { describe, expect, it } from 'vitest';
import type { TTarget } from '../../../targets/index.js';
import type { TLogQuery } from '../../logstore/index.js';
import type { TInvariantResult } from '../../reports/index.js';
import { traceTargetViolations, violationIds } from '../target-logs.js';

const target = {
  name: 'bank',
  logs: { kind: 'file', path: '/tmp/x.log', id_field: 'transferId' },
  invariants: [{ name: 'ledger-balanced', show: 'transfer {id} ({status}): {legs} legs' }],
} as unknown as TTarget;

const line = (runId: string, msg: string, transferId: string | undefined, extra: Record<string, unknown> = {}) => ({
  time: new Date('2026-01-01T00:00:01Z'),
  level: 'info',
  service: 'bank',
  instance: 'x.log',
  msg,
  runId,
  fields: { ...(transferId ? { transferId } : {}), ...extra },
});

describe('target violation trails', () => {
  it('takes the ids from the violation, the id field columns and the id-like show columns (not sentences)', () => {
    expect(
      violationIds(
        { ids: ['t1'], rows: [{ id: 't1', status: 'settled', legs: 3, transferId: 't9', accountId: 'a4', detail: 'debit without its credit' }] },
        'transfer {id} ({status}): {detail}',
        ['transferId', 'accountId'],
      ),
    ).toEqual(['t1', 't9', 'a4', 'settled']);
    expect(violationIds({ ids: [], rows: [{ total: 10, opened: 12 }] }, undefined, ['transferId'])).toEqual([]);
  });

  it("keeps the run's lines whose transferId is the violation's id, in the shop's trail shape", async () => {
    const queries: TLogQuery[] = [];
    const lines = [
      line('run1', 'transfer accepted', 't1'),
      line('run1', 'transfer accepted', 't2', { note: 'mentions t1 in passing' }),
      line('run1', 'debit committed; credit follows', 't1'),
    ];
    const logs = {
      search: async (q: TLogQuery) => {
        queries.push(q);
        return { records: lines.filter((l) => l.runId === q.runId && JSON.stringify(l).includes(String(q.text))) };
      },
    };
    const invariants: TInvariantResult[] = [
      {
        name: 'ledger-balanced',
        description: 'd',
        pass: false,
        checked: 1,
        violations: [{ kind: 'ledger-balanced', message: 'transfer t1', ids: ['t1'], rows: [{ id: 't1', status: 'pending', legs: 1 }], events: [] }],
      },
    ];
    const [inv] = await traceTargetViolations(target, invariants, { logs, runId: 'run1', window: { from: 0, to: Date.now() } });
    const trail = inv!.violations[0]!.trail!;
    const logSteps = trail.filter((s) => s.source === 'log x.log');
    expect(logSteps.map((s) => s.text)).toEqual(['info: transfer accepted [transferId=t1]', 'info: debit committed; credit follows [transferId=t1]']);
    expect(queries[0]).toMatchObject({ runId: 'run1', text: 't1' });
    // the input is not changed
    expect(invariants[0]!.violations[0]!.trail).toBeUndefined();
  });

  it('says when no line carries the id, and when the store fails', async () => {
    const v = { kind: 'k', message: 'm', ids: ['t7'], rows: [], events: [] };
    const inv: TInvariantResult[] = [{ name: 'ledger-balanced', description: 'd', pass: false, checked: 1, violations: [v] }];
    const none = await traceTargetViolations(target, inv, { logs: { search: async () => ({ records: [] }) }, runId: 'r' });
    expect(none[0]!.violations[0]!.trail).toEqual([{ at: null, source: 'trail', text: 'no log line of the run has transferId = t7' }]);
    const failing = await traceTargetViolations(target, inv, {
      logs: {
        search: async () => {
          throw new Error('store down');
        },
      },
      runId: 'r',
    });
    expect(failing[0]!.violations[0]!.trail).toEqual([{ at: null, source: 'trail', text: 'log store not searched: store down' }]);
  });
});
