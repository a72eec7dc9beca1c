/**
 * The transactional outbox relay: rows written in the business transaction
 * are published to BullMQ (queue `order-events`, jobId `m<outbox id>`, so a
 * re-publish after a crash is a no-op) and marked published.
 */
import { asc, inArray, isNull, sql } from 'drizzle-orm';
import type { Queue } from 'bullmq';
import { shopSchema as s } from '../../db/index.js';
import { bounded } from '../../lib/service-context.js';
import { EVENT_RETRY, type TOrders } from './state.js';

/** The relay pass (one at a time per instance); `final` runs it while the instance is closing. */
export function createRelay(o: TOrders, queue: Queue): (final?: boolean) => Promise<void> {
  let relaying = false;
  let lastPendingSample = 0;
  async function samplePending() {
    // Sampled whether or not publishing works: a growing backlog is what a Redis fault looks like.
    if (Date.now() - lastPendingSample < 1000) return;
    lastPendingSample = Date.now();
    try {
      const [p] = await o.db
        .select({ n: sql<number>`count(*)::int` })
        .from(s.outbox)
        .where(isNull(s.outbox.publishedAt));
      o.metrics.outboxPending.set(o.svc, p?.n ?? 0);
    } catch {
      // Postgres unreachable: the gauge keeps its last value.
    }
  }

  /** Publish up to 100 rows in one transaction; the number published. */
  async function publishBatch(): Promise<number> {
    return o.db.transaction(async (tx) => {
      const rows = await tx
        .select()
        .from(s.outbox)
        .where(isNull(s.outbox.publishedAt))
        .orderBy(asc(s.outbox.id))
        .limit(100)
        .for('update', { skipLocked: true });
      if (rows.length === 0) return 0;
      // jobId = message id ("m" prefix: BullMQ refuses all-digit custom ids); a re-publish after a crash is a no-op.
      // Bounded: with Redis unreachable the add would wait in ioredis' offline queue while we
      // hold row locks. If it lands later anyway, the re-publish is a no-op (same jobId).
      await bounded(
        queue.addBulk(
          rows.map((r) => ({
            name: r.topic,
            data: { messageId: r.id, topic: r.topic, aggregateId: r.aggregateId, payload: r.payload },
            opts: {
              jobId: `m${r.id}`,
              attempts: EVENT_RETRY.attempts,
              backoff: { type: 'capped' },
              removeOnComplete: { count: 5000 },
              removeOnFail: { count: 5000 },
            },
          })),
        ),
        3000,
      );
      await tx
        .update(s.outbox)
        .set({ publishedAt: new Date() })
        .where(
          inArray(
            s.outbox.id,
            rows.map((r) => r.id),
          ),
        );
      for (const r of rows) o.metrics.outboxPublished.inc({ ...o.svc, topic: r.topic });
      return rows.length;
    });
  }

  return async function relay(final = false) {
    if (relaying || (o.closing && !final)) return;
    relaying = true;
    try {
      await samplePending();
      for (let round = 0; round < 10; round++) {
        if ((await publishBatch()) < 100) break;
      }
    } catch (e) {
      o.log.warn({ err: (e as Error).message }, 'outbox relay pass failed');
    } finally {
      relaying = false;
    }
  };
}
