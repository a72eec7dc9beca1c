/** The console's schedule handles: the BullMQ queue (one per process) and the starter. */
import { Queue } from 'bullmq';
import { createScheduleQueue, platformStarter, withNextFires, type TScheduleDeps } from '../../workers/schedules/index.js';
import { config, db } from './deps.js';
import { listSchedules, scheduleHistory } from './queries.js';
import { startExperimentRun } from './runs.js';

const g = globalThis as unknown as { __faultlineScheduleQueue?: Queue };

function redisConnection(url: string) {
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

export function scheduleQueue(): Queue {
  g.__faultlineScheduleQueue ??= createScheduleQueue({ connection: redisConnection(config().REDIS_URL), prefix: process.env.FAULTLINE_PREFIX || 'faultline' });
  return g.__faultlineScheduleQueue;
}

export function scheduleDeps(): TScheduleDeps {
  const d = db();
  return {
    db: d,
    queue: scheduleQueue(),
    starter: platformStarter({ db: d, startExperiment: (e, ctx) => startExperimentRun(e, { trigger: 'schedule', scheduleId: ctx.scheduleId }).then((r) => r.id) }),
  };
}

export async function schedulesView() {
  const d = db();
  const [rows, history] = await Promise.all([listSchedules(d), scheduleHistory(d, undefined, 100)]);
  return { schedules: rows.map((s) => withNextFires(s, 3)), history };
}
