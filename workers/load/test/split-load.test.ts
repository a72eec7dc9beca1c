/**
 * A load split over worker processes on the real Redis/BullMQ (issue 14):
 * two load-only workers in their own processes each take one segment of
 * `distributeLoad`'s jobs, against a small loopback stand-in of the shop,
 * and the merged result reaches the same verdict as the same scenario run
 * unsplit, with the same scheduled iterations. Effects are asserted (counts,
 * thresholds, which process ran what), never wall-clock bounds.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../../db/testing.js';
import { parseScenario, runLoad, runSetup, type TLoadResult, type TLoadSecond } from '../../../loadtests/index.js';
import { startFakeShop, type TFakeShop } from '../../../loadtests/test/fake-shop.js';
import { getPlatform, type TPlatform } from '../../platform.js';
import { enqueueJob } from '../../jobs/index.js';
import { distributeLoad, loadSegmentJob, upStream, downStream, type TSegmentState, type TSegmentUp } from '../index.js';
import { aliveKey, entriesOf, FIELD } from '../messages.js';
import { spawnLoadWorker, stopChild, type TLoadChild } from './children.js';

// 20 iterations/s for 6 s: 120 scheduled iterations; checkout is answered 30 ms late by the stand-in, so its p(95)<5 threshold fails
// on any machine, and nothing else fails: the verdict is exit 99 with one failed threshold, split or not.
const SCENARIO = `
name: split-check
setup: { users: 4, products: 2 }
mix: { browse: 2, view_product: 1, checkout: 1 }
load:
  executor: constant-arrival-rate
  rate: 20
  timeUnit: 1s
  duration: 6s
  preAllocatedVUs: 6
  maxVUs: 30
http: { timeout: 10s }
thresholds:
  http_req_failed: ['rate<0.5']
  http_req_duration{name:checkout}: ['p(95)<5']
  iterations: ['count>0']
`;
const SCHEDULED = 120;

describe('a load split over two worker processes (real Redis/BullMQ, loopback stand-in)', () => {
  let shop: TFakeShop;
  let dbDrop: (() => Promise<void>) | undefined;
  let platform: TPlatform;
  const prefix = `fltest${randomBytes(4).toString('hex')}`;
  const children: TLoadChild[] = [];

  beforeAll(async () => {
    shop = await startFakeShop({ delayMs: (method, p) => (method === 'POST' && p === '/checkout' ? 30 : 0) });
    const t = await createTestDatabase();
    dbDrop = t.drop;
    platform = getPlatform({ databaseUrl: t.url, prefix, gatewayUrl: shop.url, toxiproxyUrl: 'http://127.0.0.1:9', supervisorUrl: 'http://127.0.0.1:9' });
    const env = {
      FL_DATABASE_URL: t.url,
      FL_PREFIX: prefix,
      FL_GATEWAY_URL: shop.url,
      FL_TOXIPROXY_URL: 'http://127.0.0.1:9',
      FL_SUPERVISOR_URL: 'http://127.0.0.1:9',
    };
    children.push(...(await Promise.all([spawnLoadWorker(env), spawnLoadWorker(env)])));
  }, 180_000);

  afterAll(async () => {
    await Promise.all(children.map((c) => stopChild(c)));
    await platform?.loadQueue.obliterate({ force: true }).catch(() => undefined);
    await platform?.close();
    const redis = new Redis('redis://127.0.0.1:6379');
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
    await dbDrop?.();
    await shop?.close();
  }, 120_000);

  it('reaches the same verdict as the same scenario unsplit, with every scheduled iteration accounted for once', async () => {
    const scenario = parseScenario(SCENARIO, 'split-check.yaml');
    const unsplit = await runLoad(scenario, { engine: 'builtin', baseUrl: shop.url });

    const live: TLoadSecond[] = [];
    let segments: TSegmentState[] = [];
    let startAt: number | undefined;
    const split = await distributeLoad(platform, scenario, {
      loadId: `split-${randomBytes(3).toString('hex')}`,
      segments: 2,
      baseUrl: shop.url,
      onSecond: (s) => live.push(s),
      onSegments: (s) => (segments = s),
      onStart: (t) => (startAt = t),
    });

    const verdict = (r: TLoadResult) => ({
      exitCode: r.exitCode,
      thresholds: r.thresholds.map((t) => `${t.metric} ${t.expression} ${t.ok ? 'ok' : 'FAILED'}`).sort(),
    });
    expect(verdict(split)).toEqual(verdict(unsplit));
    expect(split.exitCode).toBe(99);
    expect(split.thresholds.filter((t) => !t.ok).map((t) => t.metric)).toEqual(['http_req_duration{name:checkout}']);

    // striping: the two segments ran the whole schedule, each iteration once (started or dropped)
    const ran = (r: TLoadResult) => (r.metrics.iterations?.values.count ?? 0) + (r.metrics.dropped_iterations?.values.count ?? 0);
    expect(ran(unsplit)).toBe(SCHEDULED);
    expect(ran(split)).toBe(SCHEDULED);
    // one history: an invoke per started iteration, from both generators
    expect(split.history.filter((e) => e.type === 'invoke').length).toBe(split.metrics.iterations!.values.count);

    // each segment ran in a different worker process, and both finished
    expect(segments.map((s) => s.state)).toEqual(['done', 'done']);
    expect(new Set(segments.map((s) => s.worker)).size).toBe(2);
    expect(segments.map((s) => s.worker).sort()).toEqual(children.map((c) => c.workerId).sort());
    // merged live: seconds from the agreed start on, each with both segments' requests
    expect(startAt).toBeDefined();
    expect(live.length).toBeGreaterThanOrEqual(3);
    expect(live[0]!.t).toBeGreaterThanOrEqual(Math.floor(startAt! / 1000) * 1000);
    expect(live.reduce((a, s) => a + s.rps, 0)).toBeLessThanOrEqual(split.metrics.http_reqs!.values.count);
    expect(live.reduce((a, s) => a + s.rps, 0)).toBeGreaterThan(0);
  }, 180_000);
  it('a segment whose coordinator died (its alive key expired) stops instead of running out its schedule', async () => {
    // the test plays a coordinator that is SIGKILLed mid-load: it stops refreshing its alive key
    const scenario = parseScenario(SCENARIO.replace('duration: 6s', 'duration: 60s'), 'orphan.yaml');
    const loadId = `orphan-${randomBytes(3).toString('hex')}`;
    const alive = aliveKey(prefix, loadId);
    await platform.redis.set(alive, '1', 'PX', 2000);
    const refresher = setInterval(() => void platform.redis.set(alive, '1', 'PX', 2000), 300);
    const reader = platform.newRedis();
    try {
      const setupData = await runSetup(scenario, { baseUrl: shop.url });
      await enqueueJob(
        platform.loadQueue,
        loadSegmentJob,
        {
          loadId,
          index: 0,
          count: 2,
          scenario,
          baseUrl: shop.url,
          setupData,
          heartbeatMs: 300,
          startWaitMs: 120_000,
          history: false,
          coordinatorTimeoutMs: 2000,
        },
        { jobId: `load-${loadId}-0`, attempts: 1 },
      );
      let last = '0';
      const next = async (type: TSegmentUp['type']): Promise<TSegmentUp> => {
        for (;;) {
          const answer = (await reader.xread('BLOCK', 1000, 'STREAMS', upStream(prefix, loadId), last)) as [string, [string, string[]][]][] | null;
          for (const [id, m] of entriesOf<TSegmentUp>(answer)) {
            last = id;
            if (m.type === type) return m;
          }
        }
      };
      await next('ready');
      await platform.redis.xadd(downStream(prefix, loadId), '*', FIELD, JSON.stringify({ type: 'start', at: Date.now() + 500 }));
      await next('second');
      await next('second');
      clearInterval(refresher); // the coordinator is gone
      const done = (await next('done')) as Extract<TSegmentUp, { type: 'done' }>;
      expect(done.result.exitCode).toBe(105);
      // stopped, not run out: far fewer than its 300 of the 600 scheduled iterations
      expect(done.result.metrics.iterations?.values.count ?? 0).toBeLessThan(250);
      // the worker logs why once its job has returned
      const said = new RegExp(`load ${loadId} segment 1/2 ended \\(exit 105\\): the coordinator of load ${loadId} is gone`);
      for (let i = 0; i < 100 && !said.test(children.map((c) => c.out()).join('\n')); i++) await new Promise((r) => setTimeout(r, 100));
      expect(children.map((c) => c.out()).join('\n')).toMatch(said);
    } finally {
      clearInterval(refresher);
      reader.disconnect();
    }
  }, 240_000);
});
