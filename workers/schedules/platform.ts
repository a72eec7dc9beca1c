/**
 * Schedules wired to the platform: runs are started with the runner's
 * `enqueueRun` (trigger `schedule`, the schedule id on the run), the queue
 * lives under the platform's prefix. The worker process calls
 * `startPlatformSchedules(platform)`; the console uses `platformScheduleDeps`.
 */
import type { TPlatform } from '../platform.js';
// Not ../index.js: that re-exports main.ts, which will start this module's worker (cycle).
import { enqueueRun } from '../runs/enqueue-run.js';
import { platformStarter } from './starter.js';
import { createScheduleQueue, startScheduleWorker, type TScheduleWorkerOptions } from './worker.js';
import type { TRunStarter, TScheduleDeps } from './schedules.js';

/** BullMQ connection options from the platform's Redis URL (workers need maxRetriesPerRequest null). */
export function redisConnectionOf(url: string) {
  const u = new URL(url);
  return {
    host: u.hostname,
    port: Number(u.port || 6379),
    username: u.username || undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    db: u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0,
    tls: u.protocol === 'rediss:' ? {} : undefined,
    maxRetriesPerRequest: null,
  };
}

export function platformRunStarter(p: TPlatform): TRunStarter {
  return platformStarter({
    db: p.db,
    startExperiment: async (experiment, ctx) => (await enqueueRun(p, { experiment, trigger: 'schedule', scheduleId: ctx.scheduleId })).runId,
  });
}

const g = globalThis as unknown as { __faultlineScheduleQueues?: Map<string, ReturnType<typeof createScheduleQueue>> };

/** Deps for schedule CRUD from a console or CLI process (one queue per process and prefix). */
export function platformScheduleDeps(p: TPlatform): TScheduleDeps {
  g.__faultlineScheduleQueues ??= new Map();
  const key = `${p.redisUrl}|${p.prefix}`;
  let queue = g.__faultlineScheduleQueues.get(key);
  if (!queue) {
    queue = createScheduleQueue({ connection: redisConnectionOf(p.redisUrl), prefix: p.prefix });
    g.__faultlineScheduleQueues.set(key, queue);
  }
  return { db: p.db, queue, starter: platformRunStarter(p) };
}

/** Start the schedule worker of a worker process. */
export function startPlatformSchedules(p: TPlatform, opts: Pick<TScheduleWorkerOptions, 'onFired'> = {}) {
  return startScheduleWorker({ connection: redisConnectionOf(p.redisUrl), prefix: p.prefix, db: p.db, starter: platformRunStarter(p), onFired: opts.onFired });
}
