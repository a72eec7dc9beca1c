/**
 * `faultline worker`: the worker process (runs queue, stall sweeper, fault
 * reconciler) until SIGINT/SIGTERM; runs in progress are ended with their
 * faults removed before it exits.
 */
import type { Command } from 'commander';
import { z } from 'zod';
import { parseWith } from '../../core/validate.js';
import { loadConfig } from '../../core/config.js';
import { closeDb } from '../../db/client.js';
import { startWorker } from '../../workers/index.js';
import { assertRedisReachable, migratePlatformDatabase } from '../run-env.js';

const WorkerFlagsSchema = z.object({
  concurrency: z.coerce
    .number({ error: '--concurrency must be a number' })
    .int('--concurrency must be a whole number')
    .min(1, '--concurrency must be at least 1')
    .max(32)
    .default(2),
  roles: z
    .string()
    .default('runs,load')
    .transform((v) => v.split(',').map((r) => r.trim()))
    .pipe(z.array(z.enum(['runs', 'load'], { error: '--roles takes runs, load or runs,load' })).min(1)),
  loadConcurrency: z.coerce
    .number({ error: '--load-concurrency must be a number' })
    .int('--load-concurrency must be a whole number')
    .min(1, '--load-concurrency must be at least 1')
    .max(16)
    .default(1),
});

/** Resolve when SIGINT or SIGTERM arrives. */
export function untilSignal(onSignal?: (sig: NodeJS.Signals) => void): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const h = (sig: NodeJS.Signals) => {
      process.off('SIGINT', h);
      process.off('SIGTERM', h);
      onSignal?.(sig);
      resolve(sig);
    };
    process.on('SIGINT', h);
    process.on('SIGTERM', h);
  });
}

export function register(program: Command): void {
  program
    .command('worker')
    .description('run the faultline worker: executes queued runs, ends stalled runs, removes orphaned faults')
    .option('--concurrency <n>', 'runs executed at once (one per target)', '2')
    .option('--roles <list>', 'what this worker takes: runs, load (segments of split loads) or both', 'runs,load')
    .option('--load-concurrency <n>', 'load segments run at once (each its own engine thread)', '1')
    .action(async (raw: unknown) => {
      const flags = parseWith(WorkerFlagsSchema, raw, 'worker options');
      await migratePlatformDatabase(loadConfig().DATABASE_URL);
      await assertRedisReachable(loadConfig().REDIS_URL);
      const w = await startWorker({
        concurrency: flags.concurrency,
        roles: flags.roles,
        loadConcurrency: flags.loadConcurrency,
        schedules: flags.roles.includes('runs'),
        metrics: {},
        log: (l) => process.stderr.write(`${new Date().toISOString()} ${l}\n`),
      });
      const queues = [
        ...(w.worker ? [`${w.platform.prefix}:runs ×${flags.concurrency}`] : []),
        ...(w.loadWorker ? [`${w.platform.prefix}:load ×${flags.loadConcurrency}`] : []),
      ];
      process.stderr.write(`faultline worker ${w.workerId} ready (queues ${queues.join(', ')})\n`);
      await untilSignal((sig) => process.stderr.write(`${sig}: stopping; runs in progress end errored with their faults removed…\n`));
      await w.stop();
      await w.platform.close();
      await closeDb();
      process.stderr.write('worker stopped\n');
    });
}
