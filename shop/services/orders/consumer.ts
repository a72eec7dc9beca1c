/**
 * The `stock-commit` consumer of `order-events`: de-duplicated through
 * orders.inbox, it commits a confirmed order's reservations at catalog.
 * The effect runs first and the inbox row after it, so a failure between
 * them is a redelivery (the commit is idempotent), never a lost effect.
 */
import { and, eq } from 'drizzle-orm';
import { Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { shopSchema as s } from '../../db/index.js';
import { EVENT_RETRY, ORDER_EVENTS_QUEUE, cappedBackoffMs, type TOrders } from './state.js';

const CONSUMER = 'stock-commit';

type TEventJob = Job<{ messageId: string; topic: string; aggregateId: string }>;

/** The effect of an order event: order.confirmed commits the order's reservations. */
async function commitEffect(o: TOrders, topic: string, orderId: string): Promise<void> {
  if (topic !== 'order.confirmed') return;
  const r = await o.catalog.call({ method: 'POST', path: `/reservations/${orderId}/commit`, idempotent: true });
  if (r.status !== 200) throw new Error(`commit answered ${r.status}`);
}

async function recordHandled(o: TOrders, messageId: string): Promise<boolean> {
  const ins = await o.db.insert(s.inbox).values({ messageId, consumer: CONSUMER }).onConflictDoNothing().returning();
  return ins[0] !== undefined;
}

export async function consume(o: TOrders, job: TEventJob): Promise<{ duplicate: boolean }> {
  const { messageId, topic, aggregateId } = job.data;
  const count = (result: string) => o.metrics.inboxMessages.inc({ ...o.svc, consumer: CONSUMER, result });
  const [seen] = await o.db
    .select()
    .from(s.inbox)
    .where(and(eq(s.inbox.messageId, messageId), eq(s.inbox.consumer, CONSUMER)));
  if (seen) {
    count('duplicate');
    return { duplicate: true };
  }
  try {
    if (o.bugs.has('consume-before-commit')) {
      // BUG (consume-before-commit): the message is recorded as handled before its
      // effect. If the commit then fails, the redelivery finds it in the inbox and
      // skips it: the reservation is never committed.
      if (!(await recordHandled(o, messageId))) {
        count('duplicate');
        return { duplicate: true };
      }
      await commitEffect(o, topic, aggregateId);
      count('processed');
      return { duplicate: false };
    }
    await commitEffect(o, topic, aggregateId);
    const fresh = await recordHandled(o, messageId);
    count(fresh ? 'processed' : 'duplicate');
    return { duplicate: !fresh };
  } catch (e) {
    count('failed');
    throw e;
  }
}

/** Start the consumer; failed jobs retry with the capped backoff of EVENT_RETRY. */
export function startConsumer(o: TOrders, connection: Redis, prefix: string): Worker {
  const worker = new Worker(ORDER_EVENTS_QUEUE, (job: TEventJob) => consume(o, job), {
    connection,
    prefix,
    concurrency: 8,
    autorun: true,
    // A consumer killed mid-job leaves the job locked until the lock lapses;
    // BullMQ's defaults (30 s lock, checked every 30 s) held a confirmed
    // order's stock commit for up to a minute, past the runner's settling
    // bound, and a job stalled twice was failed for good (maxStalledCount 1),
    // leaking its reservation. Handling is idempotent (the inbox), so a job
    // that stalls is simply handed out again, within ~15 s, as often as it takes.
    lockDuration: 10_000,
    stalledInterval: 5_000,
    maxStalledCount: 1_000,
    // 'capped' jobs (EVENT_RETRY); jobs published before it existed keep BullMQ's built-in 'exponential'.
    settings: { backoffStrategy: (attemptsMade: number) => cappedBackoffMs(attemptsMade, EVENT_RETRY) },
  });
  worker.on('error', () => {});
  worker.on('failed', (job, err) => o.log.warn({ jobId: job?.id, err: err.message }, 'order event consumer failed; will retry'));
  return worker;
}
