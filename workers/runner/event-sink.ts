/**
 * Store-then-publish of run events. Within a process events are written in
 * emission order (one promise chain); `seq` is assigned by the database so
 * a second writer (the stall sweeper in another worker) cannot collide.
 */
import type { Redis } from 'ioredis';
import type { TDb } from '../../db/client.js';
import { runChannel, type TRunEvent, type TStoredRunEvent } from './events.js';

export async function appendRunEvent(db: TDb, redis: Redis, prefix: string, runId: string, ev: TRunEvent): Promise<TStoredRunEvent> {
  const { type, ...data } = ev;
  let row: { seq: number; t: Date } | undefined;
  for (let attempt = 0; attempt < 5 && !row; attempt++) {
    try {
      const r = await db.$client.query<{ seq: number; t: Date }>(
        `INSERT INTO run_events (run_id, seq, type, data)
         SELECT $1, coalesce(max(seq), 0) + 1, $2, $3::jsonb FROM run_events WHERE run_id = $1
         RETURNING seq, t`,
        [runId, type, JSON.stringify(data)],
      );
      row = r.rows[0];
    } catch (e) {
      // unique (run_id, seq): another writer took this seq; take the next
      if ((e as { code?: string }).code !== '23505') throw e;
    }
  }
  if (!row) throw new Error(`could not store event ${type} of run ${runId}`);
  const stored = { ...ev, runId, seq: row.seq, t: row.t.getTime() } as TStoredRunEvent;
  await redis.publish(runChannel(runId, prefix), JSON.stringify(stored)).catch(() => undefined);
  return stored;
}

export class RunEventSink {
  private chain: Promise<unknown> = Promise.resolve();
  /** Events that could not be stored (database down); the run goes on, the error is kept. */
  lastError: unknown;

  constructor(
    private readonly db: TDb,
    private readonly redis: Redis,
    private readonly prefix: string,
    readonly runId: string,
    private readonly onEvent?: (e: TStoredRunEvent) => void,
  ) {}

  emit(ev: TRunEvent): Promise<void> {
    const p = this.chain.then(async () => {
      try {
        const s = await appendRunEvent(this.db, this.redis, this.prefix, this.runId, ev);
        this.onEvent?.(s);
      } catch (e) {
        this.lastError = e;
      }
    });
    this.chain = p;
    return p;
  }

  /** Wait for every emitted event to be stored and published. */
  flush(): Promise<unknown> {
    return this.chain;
  }
}
