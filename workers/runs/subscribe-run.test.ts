/**
 * A run's event feed (subscribeRun): the backlog after `afterSeq`, then live
 * events, each seq once and in order, on its own connection or on the
 * process's shared one; a run that ended without a verdict says so.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../db/testing.js';
import { runs } from '../../db/schema/index.js';
import { getPlatform, type TPlatform } from '../platform.js';
import { appendRunEvent } from '../runner/event-sink.js';
import { runChannel, type TStoredRunEvent } from '../runner/events.js';
import { closeRunHub } from './run-hub.js';
import { subscribeRun } from './subscribe-run.js';

let t: Awaited<ReturnType<typeof createTestDatabase>>;
let p: TPlatform;
const prefix = `fltest${randomBytes(4).toString('hex')}`;

beforeAll(async () => {
  t = await createTestDatabase();
  p = getPlatform({ databaseUrl: t.url, prefix });
});

afterAll(async () => {
  closeRunHub();
  await p?.close();
  await t?.drop();
});

async function newRun(state: 'running' | 'errored' = 'running'): Promise<string> {
  const runId = `run${randomBytes(4).toString('hex')}`;
  await t.db
    .insert(runs)
    .values({ id: runId, experimentName: 'x', target: 'shop', state, definition: {}, ...(state === 'errored' ? { endedAt: new Date() } : {}) });
  return runId;
}

const note = (msg: string) => ({ type: 'note' as const, level: 'info' as const, msg });

async function until(what: string, ok: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 250; i++) {
    if (await ok()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('subscribeRun', () => {
  for (const shared of [false, true])
    it(`replays stored events after afterSeq, then live ones once and in order (${shared ? 'shared' : 'own'} connection)`, async () => {
      const runId = await newRun();
      for (const m of ['a', 'b', 'c']) await appendRunEvent(t.db, p.redis, prefix, runId, note(m));
      const got: TStoredRunEvent[] = [];
      const subscribing = subscribeRun(p, runId, (e) => got.push(e), { afterSeq: 1, shared });
      // published while the backlog is read: must arrive exactly once
      await appendRunEvent(t.db, p.redis, prefix, runId, note('d'));
      const unsub = await subscribing;
      await appendRunEvent(t.db, p.redis, prefix, runId, note('e'));
      await until('seq 5', () => got.some((e) => e.seq === 5));
      expect(got.map((e) => e.seq)).toEqual([2, 3, 4, 5]);
      expect(got.map((e) => (e.type === 'note' ? e.msg : e.type))).toEqual(['b', 'c', 'd', 'e']);
      await unsub();
    });

  it('followers on the shared connection are one subscriber of the channel, dropped when the last one leaves', async () => {
    const runId = await newRun();
    const numsub = async () => Number(((await p.redis.call('pubsub', 'numsub', runChannel(runId, prefix))) as [string, number])[1]);
    const seen = [[], [], []] as number[][];
    const unsubs = await Promise.all(seen.map((s) => subscribeRun(p, runId, (e) => s.push(e.seq), { shared: true })));
    expect(await numsub()).toBe(1);
    await appendRunEvent(t.db, p.redis, prefix, runId, note('x'));
    await until('every follower got it', () => seen.every((s) => s.length === 1));
    for (const u of unsubs) await u();
    await until('channel dropped', async () => (await numsub()) === 0);
  });

  it('tells onEnded when the run had ended without a verdict event, and not while it runs', async () => {
    const ended: string[] = [];
    const unsub = await subscribeRun(p, await newRun('errored'), () => undefined, { onEnded: (s) => ended.push(s) });
    await unsub();
    expect(ended).toEqual(['errored']);
    const running = await subscribeRun(p, await newRun(), () => undefined, { onEnded: (s) => ended.push(s) });
    await running();
    expect(ended).toEqual(['errored']);
  });

  it('refuses an unknown run before subscribing', async () => {
    await expect(subscribeRun(p, 'no-such-run', () => undefined)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
