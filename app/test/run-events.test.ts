/**
 * The run page's live feed: stored events first, then live ones from Redis,
 * in seq order with no gap or duplicate (an event published while the
 * stored ones are read is sent once), and the stream ends at the verdict.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../db/testing.js';
import { runs } from '../../db/schema/index.js';

let t: Awaited<ReturnType<typeof createTestDatabase>>;
const prefix = `fltest${randomBytes(4).toString('hex')}`;

async function readAll(stream: ReadableStream<Uint8Array>, timeoutMs = 10_000): Promise<{ ids: number[]; types: string[]; ended: boolean }> {
  const reader = stream.getReader();
  const dec = new TextDecoder();
  let text = '';
  const deadline = Date.now() + timeoutMs;
  let ended = false;
  while (Date.now() < deadline) {
    const r = await Promise.race([
      reader.read(),
      new Promise<{ done: true; value: undefined; timeout: true }>((res) =>
        setTimeout(() => res({ done: true, value: undefined, timeout: true }), deadline - Date.now()),
      ),
    ]);
    if (r.done) {
      ended = !('timeout' in r);
      break;
    }
    text += dec.decode(r.value);
  }
  const frames = text.split('\n\n').filter((f) => f.includes('event: run'));
  return {
    ids: frames.map((f) => Number(/^id: (\d+)/m.exec(f)![1])),
    types: frames.map((f) => JSON.parse(/^data: (.*)$/m.exec(f)![1]).type as string),
    ended,
  };
}

beforeAll(async () => {
  t = await createTestDatabase();
  process.env.DATABASE_URL = t.url;
  process.env.FAULTLINE_PREFIX = prefix;
});

afterAll(async () => {
  const { platform, closeRunHub } = await import('../_lib/runs.js');
  closeRunHub();
  await platform().close();
  await t?.drop();
});

describe('run event stream (SSE)', () => {
  it('replays stored events, forwards live ones once and in order, ends at the verdict', async () => {
    const { runEventStream, platform } = await import('../_lib/runs.js');
    const { appendRunEvent } = await import('../../workers/runner/event-sink.js');
    const p = platform();
    const runId = `run${randomBytes(4).toString('hex')}`;
    await t.db.insert(runs).values({ id: runId, experimentName: 'x', target: 'shop', state: 'running', definition: {} });
    await appendRunEvent(t.db, p.redis, prefix, runId, { type: 'phase', phase: 'steady_state' });
    await appendRunEvent(t.db, p.redis, prefix, runId, { type: 'phase', phase: 'running' });
    const ac = new AbortController();
    const stream = runEventStream(runId, 0, ac.signal);
    const reading = readAll(stream);
    // Published while the stream replays: must arrive exactly once.
    await appendRunEvent(t.db, p.redis, prefix, runId, { type: 'note', level: 'info', msg: 'hello' });
    await new Promise((r) => setTimeout(r, 300));
    await appendRunEvent(t.db, p.redis, prefix, runId, {
      type: 'fault.applied',
      name: 'f',
      faultId: 'x',
      fault: { type: 'latency', target: 'orders->payments' },
      plannedAt: 0,
      until: 1,
    });
    await appendRunEvent(t.db, p.redis, prefix, runId, { type: 'verdict', verdict: 'passed' });
    const got = await reading;
    expect(got.ids).toEqual([1, 2, 3, 4, 5]);
    expect(got.types).toEqual(['phase', 'phase', 'note', 'fault.applied', 'verdict']);
    expect(got.ended).toBe(true);

    // Resuming after seq 3 (Last-Event-ID) gives only what followed.
    const resumed = await readAll(runEventStream(runId, 3, new AbortController().signal));
    expect(resumed.ids).toEqual([4, 5]);
  });

  it('many followers of one run share one subscription, each gets every event, and the channel is dropped after', async () => {
    const { runEventStream, platform } = await import('../_lib/runs.js');
    const { appendRunEvent } = await import('../../workers/runner/event-sink.js');
    const { runChannel } = await import('../../workers/index.js');
    const p = platform();
    const runId = `run${randomBytes(4).toString('hex')}`;
    await t.db.insert(runs).values({ id: runId, experimentName: 'x', target: 'shop', state: 'running', definition: {} });
    const readers = Array.from({ length: 5 }, () => readAll(runEventStream(runId, 0, new AbortController().signal)));
    // wait until all five are subscribed, then the channel has exactly one subscriber (the shared one)
    const numsub = async () => Number(((await p.redis.call('pubsub', 'numsub', runChannel(runId, prefix))) as [string, number])[1]);
    for (let i = 0; i < 50 && (await numsub()) === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(await numsub()).toBe(1);
    await new Promise((r) => setTimeout(r, 200));
    for (let i = 0; i < 3; i++) await appendRunEvent(t.db, p.redis, prefix, runId, { type: 'note', level: 'info', msg: `n${i}` });
    await appendRunEvent(t.db, p.redis, prefix, runId, { type: 'verdict', verdict: 'failed' });
    for (const r of await Promise.all(readers)) expect(r.ids).toEqual([1, 2, 3, 4]);
    for (let i = 0; i < 50 && (await numsub()) !== 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(await numsub()).toBe(0);
  });

  it('a run that ended without a verdict event closes the stream after replay', async () => {
    const { runEventStream } = await import('../_lib/runs.js');
    const runId = `run${randomBytes(4).toString('hex')}`;
    await t.db.insert(runs).values({ id: runId, experimentName: 'x', target: 'shop', state: 'errored', definition: {}, endedAt: new Date() });
    const got = await readAll(runEventStream(runId, 0, new AbortController().signal), 5000);
    expect(got.ids).toEqual([]);
    expect(got.ended).toBe(true);
  });
});
