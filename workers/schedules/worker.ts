/**
 * The BullMQ side of schedules: one queue whose job schedulers emit
 * `schedule.fire` jobs, and the worker that handles them.
 */
import { Queue, UnrecoverableError, Worker, type ConnectionOptions } from 'bullmq';
import type { TDb } from '../../db/client.js';
import { fireSchedule } from './fire.js';
import { SCHEDULE_FIRE_JOB, ScheduleFireJobSchema } from './schema.js';
import { syncSchedulers, type TRunStarter } from './schedules.js';

export const SCHEDULES_QUEUE = 'schedules';

export interface TScheduleQueueOptions {
  connection: ConnectionOptions;
  /** BullMQ key prefix. @defaultValue 'faultline' */
  prefix?: string;
  /** Queue name. @defaultValue SCHEDULES_QUEUE */
  queueName?: string;
}

export function createScheduleQueue(o: TScheduleQueueOptions): Queue {
  return new Queue(o.queueName ?? SCHEDULES_QUEUE, { connection: o.connection, prefix: o.prefix ?? 'faultline' });
}

export interface TScheduleWorkerOptions extends TScheduleQueueOptions {
  db: TDb;
  starter: TRunStarter;
  /** Called after each firing (logging, tests). @defaultValue none */
  onFired?: (e: { scheduleId: string; outcome: string; reason?: string; runIds?: string[] }) => void;
}

/** Start the schedule worker; re-syncs Redis schedulers from the table first. */
export async function startScheduleWorker(o: TScheduleWorkerOptions): Promise<{ queue: Queue; worker: Worker; close(): Promise<void> }> {
  const queue = createScheduleQueue(o);
  await syncSchedulers({ db: o.db, queue });
  const worker = new Worker(
    o.queueName ?? SCHEDULES_QUEUE,
    async (job) => {
      if (job.name !== SCHEDULE_FIRE_JOB) throw new UnrecoverableError(`unknown job ${job.name}`);
      const p = ScheduleFireJobSchema.safeParse(job.data);
      if (!p.success)
        throw new UnrecoverableError(`bad ${SCHEDULE_FIRE_JOB} payload: ${p.error.issues.map((i) => i.path.join('.') + ' ' + i.message).join('; ')}`);
      const r = await fireSchedule({ db: o.db, starter: o.starter, scheduleId: p.data.scheduleId, jobId: job.id, firedAt: new Date(job.timestamp) });
      o.onFired?.({ scheduleId: p.data.scheduleId, outcome: r.outcome, ...(r.outcome === 'started' ? { runIds: r.runIds } : { reason: r.reason }) });
      return r;
    },
    { connection: o.connection, prefix: o.prefix ?? 'faultline', concurrency: 2 },
  );
  worker.on('error', () => {
    /* connection errors are retried by BullMQ; job errors are recorded as fires */
  });
  return {
    queue,
    worker,
    close: async () => {
      await worker.close();
      await queue.close();
    },
  };
}
