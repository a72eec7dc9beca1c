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
import { parseScenario, runLoad, type TLoadResult, type TLoadSecond } from '../../../loadtests/index.js';
import { startFakeShop, type TFakeShop } from '../../../loadtests/test/fake-shop.js';
import { getPlatform, type TPlatform } from '../../platform.js';
import { distributeLoad, type TSegmentState } from '../index.js';
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
});
