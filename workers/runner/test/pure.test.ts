import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import type { TAbortCondition, TSlo, TTimedFault } from '../../../experiments/index.js';
import { AbortEvaluator } from '../abort.js';
import { canTransition, isTerminal } from '../lifecycle.js';
import { TargetLock } from '../lock.js';
import { planTimeline } from '../timeline.js';

const fault = (name: string, at: number, duration: number): TTimedFault => ({
  name,
  at,
  duration,
  fault: { type: 'latency', target: 'orders->payments', params: { latencyMs: 100 } } as never,
});

describe('timeline', () => {
  it('orders apply/remove by time, removals first at equal times', () => {
    const plan = planTimeline([fault('b', 5000, 5000), fault('a', 0, 5000)]);
    expect(plan.map((p) => `${p.at}:${p.kind}:${p.fault.name}`)).toEqual(['0:apply:a', '5000:remove:a', '5000:apply:b', '10000:remove:b']);
  });
});

describe('lifecycle', () => {
  it('allows only forward moves and ends in terminal states', () => {
    expect(canTransition('queued', 'steady_state')).toBe(true);
    expect(canTransition('running', 'steady_state')).toBe(false);
    expect(canTransition('passed', 'errored')).toBe(false);
    expect(canTransition('analysing', 'failed')).toBe(true);
    expect(canTransition('running', 'passed')).toBe(false);
    expect(['passed', 'failed', 'aborted', 'errored'].every((s) => isTerminal(s as never))).toBe(true);
  });
});

describe('abort conditions', () => {
  const slo: TSlo = { name: 'checkout', route: 'POST /checkout', sli: 'availability', objective: 99, window: 30 * 86_400_000 };
  it('error_rate trips only after `for` consecutive seconds above the limit', () => {
    const c: TAbortCondition = { kind: 'error_rate', above: 50, for: 3000 };
    const ev = new AbortEvaluator([c], [slo]);
    ev.addSecond({ t: 0, requests: 10, errors: 9 });
    ev.addSecond({ t: 1000, requests: 10, errors: 9 });
    expect(ev.check(2000)).toBeUndefined();
    ev.addSecond({ t: 2000, requests: 10, errors: 4 });
    expect(ev.check(3000)).toBeUndefined();
    ev.addSecond({ t: 3000, requests: 10, errors: 6 });
    ev.addSecond({ t: 4000, requests: 10, errors: 10 });
    expect(ev.check(5000)).toBeUndefined();
    ev.addSecond({ t: 5000, requests: 10, errors: 8 });
    expect(ev.check(6000)?.reason).toBe('error rate above 50% for 3s (lowest second 60.0%)');
  });

  it('burn_rate over the SLO route trips when bad/valid exceeds above × budget, not on other routes', () => {
    const c: TAbortCondition = { kind: 'burn_rate', slo: 'checkout', above: 10, window: 10_000 };
    const ev = new AbortEvaluator([c], [slo]);
    let i = 0;
    const add = (t: number, type: 'ok' | 'fail', status: number, f = 'checkout') =>
      ev.addHistory({ index: i++, type, f, process: 1, time: t, value: { status } });
    // 30 browse failures: other route, ignored
    for (let k = 0; k < 30; k++) add(1000 + k, 'fail', 503, 'browse');
    for (let k = 0; k < 25; k++) add(2000 + k, 'ok', 201);
    expect(ev.check(5000)).toBeUndefined();
    // 5 bad of 30 = 16.7 % → burn 16.7 > 10
    for (let k = 0; k < 5; k++) add(3000 + k, 'fail', 503);
    expect(ev.check(5000)?.reason).toMatch(/SLO checkout burn rate 16\.7 above 10/);
    // outside the window, the same events no longer count
    expect(ev.check(20_000)).toBeUndefined();
  });
});

describe('target lock (real Redis)', () => {
  const redis = new Redis('redis://127.0.0.1:6379');
  const prefix = `fltest${randomBytes(4).toString('hex')}`;
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });

  it('one holder per target; renew and release only by the holder; expiry frees it', async () => {
    const a = new TargetLock(redis, 'shop', 'run-a', 300, prefix);
    const b = new TargetLock(redis, 'shop', 'run-b', 300, prefix);
    expect(await a.acquire()).toBe(true);
    expect(await b.acquire()).toBe(false);
    expect(await TargetLock.holder(redis, 'shop', prefix)).toBe('run-a');
    expect(await b.renew()).toBe(false);
    await b.release();
    expect(await TargetLock.holder(redis, 'shop', prefix)).toBe('run-a');
    expect(await a.renew()).toBe(true);
    // the holder dies: no renewal, the lock lapses
    await new Promise((r) => setTimeout(r, 450));
    expect(await b.acquire()).toBe(true);
    expect(await a.renew()).toBe(false);
    await b.release();
    expect(await TargetLock.holder(redis, 'shop', prefix)).toBeNull();
    // another target is independent
    expect(await new TargetLock(redis, 'other', 'run-c', 300, prefix).acquire()).toBe(true);
  });
});

describe('stored run definition', () => {
  it('reads back every shipped experiment exactly as the schema parsed it (durations in ms, defaults kept)', async () => {
    const { readdirSync, readFileSync } = await import('node:fs');
    const { EXPERIMENTS_DIR, parseExperiment } = await import('../../../experiments/index.js');
    const { parseStoredExperiment } = await import('../run-definition.js');
    const files = readdirSync(EXPERIMENTS_DIR).filter((f) => f.endsWith('.yaml'));
    expect(files.length).toBeGreaterThan(3);
    for (const f of files) {
      const parsed = parseExperiment(readFileSync(`${EXPERIMENTS_DIR}/${f}`, 'utf8'), f);
      // as stored: JSON in a jsonb column
      expect(parseStoredExperiment(JSON.parse(JSON.stringify(parsed))), f).toEqual(parsed);
    }
  });

  it('names every bad field of a broken stored definition', async () => {
    const { readFileSync } = await import('node:fs');
    const { EXPERIMENTS_DIR, parseExperiment } = await import('../../../experiments/index.js');
    const { parseStoredExperiment } = await import('../run-definition.js');
    const stored = JSON.parse(JSON.stringify(parseExperiment(readFileSync(`${EXPERIMENTS_DIR}/payments-latency.yaml`, 'utf8'))));
    stored.faults[0].at = 'soon';
    delete stored.steady_state;
    expect(() => parseStoredExperiment(stored)).toThrow(/invalid stored experiment definition: .*steady_state: required.*; faults\.0\.at: expected a duration/);
    expect(() => parseStoredExperiment(null)).toThrow(/invalid stored experiment definition/);
  });
});

describe('k6 durations of scenarios', () => {
  it('reads 1m30s and bare milliseconds the way k6 does', async () => {
    const { executorDurationMs } = await import('../timeline.js');
    expect(executorDurationMs({ executor: 'constant-arrival-rate', duration: '1m30s' })).toBe(90_000);
    expect(executorDurationMs({ executor: 'constant-vus', duration: '500' })).toBe(500);
    expect(executorDurationMs({ executor: 'ramping-arrival-rate', stages: [{ duration: '30s' }, { duration: '1m' }] })).toBe(90_000);
    expect(executorDurationMs({ executor: 'externally-controlled' })).toBeUndefined();
  });
});

describe('control channel', () => {
  it('keeps the safety lever reason as the abort reason, and prefixes other requests', async () => {
    const { abortReasonOf } = await import('../run-guards.js');
    expect(abortReasonOf(JSON.stringify({ action: 'abort', reason: 'halted by ops: db failover' }))).toBe('halted by ops: db failover');
    expect(abortReasonOf(JSON.stringify({ action: 'abort', reason: 'test says stop' }))).toBe('abort requested: test says stop');
    expect(abortReasonOf(JSON.stringify({ action: 'abort' }))).toBe('abort requested');
    expect(abortReasonOf(JSON.stringify({ action: 'pause' }))).toBeUndefined();
    expect(abortReasonOf('not json')).toBeUndefined();
  });
});
