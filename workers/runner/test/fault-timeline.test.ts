/**
 * The fault timeline's own rules, on fake timers (the catalog's apply is
 * recorded here; the real-stack proof is halt.test.ts): a stop cancels every
 * pending apply, removes the active fault at once, and the window ends at
 * the stop; the lever is asked before every apply.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { TTimedFault } from '../../../experiments/index.js';
import type { TRunEvent } from '../events.js';
import { FaultTimeline, type TFaultTimelineEnv } from '../fault-timeline.js';

const fault = (name: string, at: number, duration: number, target: unknown = 'orders->payments'): TTimedFault =>
  ({ name, at, duration, fault: { type: 'latency', target, params: { latencyMs: 100 } } }) as never;

function recordingEnv(lever: () => string | undefined = () => undefined) {
  const events: TRunEvent[] = [];
  const applied: string[] = [];
  const removed: string[] = [];
  const stops: { reason: string; kind: string }[] = [];
  const env: TFaultTimelineEnv = {
    deps: {
      applyFault: async (spec) => {
        const target = (spec as { target: string }).target;
        applied.push(target);
        return { id: `f-${applied.length}`, remove: async () => void removed.push(target) };
      },
    },
    faultContext: (f, t0) => ({ toxiproxyUrl: 'x', supervisorUrl: 'y', db: null as never, runId: 'r', expiresAt: new Date(t0 + f.at + f.duration) }),
    emit: async (e) => void events.push(e),
    mayApply: async () => lever(),
    onStop: (reason, kind) => void stops.push({ reason, kind }),
  };
  return { env, events, applied, removed, stops };
}

beforeEach(() => vi.useFakeTimers({ now: 1_000_000 }));
afterEach(() => vi.useRealTimers());

describe('fault timeline', () => {
  it('applies and removes on plan, recording each window', async () => {
    const r = recordingEnv();
    const tl = new FaultTimeline([fault('a', 1000, 2000), fault('b', 4000, 1000, ['orders->payments', 'orders->postgres'])], r.env);
    tl.start(Date.now());
    await vi.advanceTimersByTimeAsync(6000);
    expect(r.applied).toEqual(['orders->payments', ['orders->payments', 'orders->postgres']]);
    expect(r.removed).toHaveLength(2);
    expect(tl.windows).toEqual([
      { name: 'a', type: 'latency', target: 'orders->payments', plannedAtMs: 1000, plannedDurationMs: 2000, appliedAt: 1_001_000, removedAt: 1_003_000 },
      {
        name: 'b',
        type: 'latency',
        target: 'orders->payments, orders->postgres',
        plannedAtMs: 4000,
        plannedDurationMs: 1000,
        appliedAt: 1_004_000,
        removedAt: 1_005_000,
      },
    ]);
  });

  it('a stop during the first fault: nothing applied afterwards, the first removed at the stop', async () => {
    const r = recordingEnv();
    const tl = new FaultTimeline([fault('first', 1000, 20_000), fault('second', 8000, 4000, 'orders->postgres')], r.env);
    tl.start(Date.now());
    await vi.advanceTimersByTimeAsync(3000);
    expect(r.applied).toEqual(['orders->payments']);
    const stopAt = Date.now();
    await tl.removeAll();
    await vi.advanceTimersByTimeAsync(30_000);
    expect(r.applied).toEqual(['orders->payments']);
    expect(r.events.filter((e) => e.type === 'fault.applied').map((e) => (e as { name: string }).name)).toEqual(['first']);
    expect(r.removed).toEqual(['orders->payments']);
    expect(tl.windows[0]).toMatchObject({ appliedAt: 1_001_000, removedAt: stopAt });
    expect(tl.windows[1]).toMatchObject({ appliedAt: null, removedAt: null });
    // a late start (an engine's first second after the stop) starts nothing
    tl.start(Date.now());
    await vi.advanceTimersByTimeAsync(30_000);
    expect(r.applied).toEqual(['orders->payments']);
  });

  it('asks the lever before every apply: engaged, the fault is not applied and the run is halted', async () => {
    const lever: { reason?: string } = {};
    const r = recordingEnv(() => lever.reason);
    const tl = new FaultTimeline([fault('first', 1000, 2000), fault('second', 5000, 1000, 'orders->postgres')], r.env);
    tl.start(Date.now());
    await vi.advanceTimersByTimeAsync(4000);
    lever.reason = 'halted by ops: db failover';
    await vi.advanceTimersByTimeAsync(10_000);
    expect(r.applied).toEqual(['orders->payments']);
    expect(r.stops).toEqual([{ reason: 'halted by ops: db failover', kind: 'halt' }]);
    expect(tl.windows[1]).toMatchObject({ appliedAt: null });
  });

  it('an apply in flight when the run stops lands and is removed before removeAll returns', async () => {
    const r = recordingEnv();
    let release!: () => void;
    const gate = new Promise<void>((res) => (release = res));
    const slowApply = r.env.deps.applyFault;
    r.env.deps.applyFault = async (spec, ctx) => {
      await gate;
      return slowApply(spec, ctx);
    };
    const tl = new FaultTimeline([fault('first', 0, 10_000)], r.env);
    tl.start(Date.now());
    await vi.advanceTimersByTimeAsync(10);
    const done = tl.removeAll();
    release();
    await done;
    expect(r.applied).toEqual(['orders->payments']);
    expect(r.removed).toEqual(['orders->payments']);
    expect(tl.windows[0]!.removedAt).not.toBeNull();
  });
});
