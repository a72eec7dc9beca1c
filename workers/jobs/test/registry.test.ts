import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { Queue, QueueEvents } from 'bullmq';
import { z } from 'zod';
import { AppError } from '../../../core/errors.js';
import { createJobWorker, defineJob, enqueueJob, jobKey } from '../registry.js';

const connection = { host: '127.0.0.1', port: 6379, maxRetriesPerRequest: null };
const prefix = `fltest${randomBytes(4).toString('hex')}`;
const queueName = 'jobs';
const closers: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const c of closers.reverse()) await c();
});

describe('job registry on a real BullMQ queue', () => {
  it('validates on enqueue, retries transient failures with backoff, never retries bad payloads', async () => {
    const calls: { key: string; attempt: number }[] = [];
    const echo = defineJob({
      name: 'echo',
      version: 2,
      schema: z.object({ n: z.number().int(), failTimes: z.number().int().default(0) }),
      handler: async (p, { job }) => {
        calls.push({ key: `n${p.n}`, attempt: job.attemptsMade });
        if (job.attemptsMade < p.failTimes) throw new Error('transient: upstream busy');
        if (p.n < 0) throw new AppError('NOT_FOUND', 'no such thing');
        return p.n * 2;
      },
      defaults: { attempts: 4, backoff: { type: 'fixed', delay: 50 } },
    });
    const queue = new Queue(queueName, { connection, prefix });
    const events = new QueueEvents(queueName, { connection, prefix });
    await events.waitUntilReady();
    const worker = createJobWorker({ queueName, connection, prefix, defs: [echo], concurrency: 2 });
    closers.push(
      () => queue.obliterate({ force: true }).then(() => queue.close()),
      () => events.close(),
      () => worker.close(),
    );

    await expect(enqueueJob(queue, echo, { n: 'x' as unknown as number })).rejects.toMatchObject({
      code: 'VALIDATION',
      issues: [expect.objectContaining({ path: 'n' })],
    });

    const ok = await enqueueJob(queue, echo, { n: 5, failTimes: 2 });
    expect(ok.name).toBe('echo@v2');
    expect(await ok.waitUntilFinished(events, 10_000)).toBe(10);
    expect(calls.filter((c) => c.key === 'n5').map((c) => c.attempt)).toEqual([0, 1, 2]);

    // a payload that bypassed enqueueJob (an old producer) fails once, without retries
    const bad = await queue.add(jobKey(echo), { n: 'nope' }, { attempts: 4 });
    await expect(bad.waitUntilFinished(events, 10_000)).rejects.toThrow(/invalid echo@v2 payload: n:/);
    expect((await queue.getJob(bad.id!))!.attemptsMade).toBe(1);

    // a permanent domain error is not retried either
    const missing = await enqueueJob(queue, echo, { n: -1 });
    await expect(missing.waitUntilFinished(events, 10_000)).rejects.toThrow(/no such thing/);
    expect(calls.filter((c) => c.key === 'n-1')).toHaveLength(1);

    const unknown = await queue.add('nobody@v1', {});
    await expect(unknown.waitUntilFinished(events, 10_000)).rejects.toThrow(/unknown job "nobody@v1"/);
  });
});
