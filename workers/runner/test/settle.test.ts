/**
 * Settling instead of sleeping (issue 10), on fake timers with the shop's
 * answers scripted: the wait ends at the first confirmed settled reading,
 * or at the experiment's quiescence (the maximum) when the shop never
 * settles; a failing check is not a settled shop.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { TRunEvent } from '../events.js';
import type { RunContext } from '../run-context.js';
import { breakerObservationEnd, settleShop } from '../settle.js';

function fakeRun(answers: (n: number) => { settled: boolean; detail: string } | Error) {
  const events: TRunEvent[] = [];
  let n = 0;
  const ctl = new AbortController();
  const ctx = {
    signal: ctl.signal,
    // the system under test answers (the shop's answers its database's settled check)
    sut: {
      isSettled: async () => {
        const a = answers(n++);
        if (a instanceof Error) throw a;
        return a;
      },
    },
    emit: async (e: TRunEvent) => void events.push(e),
  } as unknown as RunContext;
  return { ctx, events, reads: () => n, abort: () => ctl.abort() };
}

beforeEach(() => vi.useFakeTimers({ now: 0 }));
afterEach(() => vi.useRealTimers());

async function settle(run: ReturnType<typeof fakeRun>, maxMs: number) {
  const p = settleShop(run.ctx, { maxMs, pollMs: 500 });
  await vi.advanceTimersByTimeAsync(maxMs + 1000);
  return p;
}

describe('settling after the load', () => {
  it('stops at the first settled reading confirmed by a second one, long before the maximum', async () => {
    const run = fakeRun((n) => (n < 4 ? { settled: false, detail: `${4 - n} saga(s) in flight` } : { settled: true, detail: 'settled' }));
    const out = await settle(run, 35_000);
    expect(out).toEqual({ settled: true, waitedMs: 4 * 500 + 250, maxMs: 35_000, detail: 'settled' });
    expect(run.reads()).toBe(6);
    expect(run.events).toEqual([{ type: 'settle', settled: true, waitedMs: 2250, maxMs: 35_000, detail: 'settled' }]);
  });

  it('a settled reading not confirmed goes on waiting', async () => {
    const run = fakeRun((n) => (n === 0 || n >= 3 ? { settled: true, detail: 'settled' } : { settled: false, detail: 'outbox: 1 unpublished' }));
    const out = await settle(run, 35_000);
    expect(out.settled).toBe(true);
    expect(out.waitedMs).toBe(250 + 500 + 500 + 250);
  });

  it('gives up at the maximum when the shop never settles, saying what was still in flight', async () => {
    const run = fakeRun(() => ({ settled: false, detail: '2 saga(s) in flight' }));
    const out = await settle(run, 3000);
    expect(out).toEqual({ settled: false, waitedMs: 3000, maxMs: 3000, detail: '2 saga(s) in flight' });
  });

  it('a check that fails is not settled, and its error is the detail', async () => {
    const run = fakeRun(() => new Error('connection refused'));
    const out = await settle(run, 1000);
    expect(out.settled).toBe(false);
    expect(out.detail).toMatch(/settled check failed: connection refused/);
  });

  it('quiescence 0: one reading, no wait', async () => {
    const run = fakeRun(() => ({ settled: true, detail: 'settled' }));
    const out = await settle(run, 0);
    expect(out).toMatchObject({ settled: true, waitedMs: 0 });
    expect(run.reads()).toBe(1);
  });

  it('a settled shop is still observed until the last breaker expectation can be judged (settling alone ended runs before breakers closed)', async () => {
    const run = fakeRun(() => ({ settled: true, detail: 'settled' }));
    const p = settleShop(run.ctx, { maxMs: 35_000, pollMs: 500, observeUntil: 12_000 });
    await vi.advanceTimersByTimeAsync(40_000);
    const out = await p;
    expect(out.settled).toBe(true);
    expect(out.waitedMs).toBe(12_000);
    // without the bound the same shop ends at the confirming reading
    const quick = fakeRun(() => ({ settled: true, detail: 'settled' }));
    expect((await settle(quick, 35_000)).waitedMs).toBe(250);
  });

  it('the observation bound is the latest fault removal plus its breaker closes_within', () => {
    const experiment = {
      expectations: {
        breakers: [
          { breaker: 'orders->payments', opens_during: 'slow', closes_within: 12_000 },
          { breaker: 'orders->catalog', opens_during: 'never-applied', closes_within: 60_000 },
        ],
      },
    } as never;
    expect(
      breakerObservationEnd(experiment, [
        { name: 'slow', removedAt: 100_000 },
        { name: 'never-applied', removedAt: null },
      ]),
    ).toBe(112_000);
    expect(breakerObservationEnd({ expectations: { breakers: [] } } as never, [])).toBeUndefined();
  });
});
