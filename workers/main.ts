/**
 * The worker process: executes queued runs (BullMQ), ends stalled runs,
 * and keeps the fault reconciler running so no fault outlives its run.
 *
 *   startWorker ─┬─ BullMQ Worker('runs') ─▶ run.execute@v1 ─▶ executeRun
 *                ├─ BullMQ Worker('load') ─▶ load.segment@v1 ─▶ runSegmentJob (one segment of a split load)
 *                ├─ stall sweeper (every 5 s): stale heartbeat ─▶ errored
 *                └─ fault reconciler (chaos/): run ended / expired / holder gone ─▶ remove
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { DelayedError, type Worker } from 'bullmq';
import { startReconciler } from '../chaos/index.js';
import { undoCommandFault } from './targets/index.js';
import { createJobWorker, defineJob } from './jobs/index.js';
import { loadSegmentJob, runSegmentJob } from './load/index.js';
import { getPlatform, LOAD_QUEUE, RUNS_QUEUE, type PlatformOptions, type TPlatform } from './platform.js';
import { realDeps } from './runner/deps.js';
import { executeRun, TargetBusyError } from './runner/execute.js';
import type { TStoredRunEvent } from './runner/events.js';
import type { TRunnerDeps } from './runner/ports.js';
import { sweepOrphanQueuedRuns, sweepStalledRuns } from './runner/sweeper.js';
import { runJob } from './runs/run-job.js';
import { isRunActiveInDb } from './runs/active-runs.js';
import { startPlatformSchedules } from './schedules/platform.js';
import { serveSelfMetrics } from './self-metrics.js';
import { loadConfig } from '../core/config.js';

export interface StartWorkerOptions extends PlatformOptions {
  /** A platform already created (tests); otherwise one is made from the options. */
  platform?: TPlatform;
  /**
   * Runs executed at once (each on its own target; one per target is enforced by the lock).
   * @defaultValue 2
   */
  concurrency?: number;
  /**
   * What this worker takes: runs (`runs` queue) and/or segments of split loads (`load` queue).
   * A machine that only generates load runs `['load']`.
   * @defaultValue ['runs', 'load']
   */
  roles?: readonly ('runs' | 'load')[];
  /**
   * Load segments run at once (each in its own engine thread).
   * @defaultValue 1
   */
  loadConcurrency?: number;
  /**
   * A segment of a split load whose worker says nothing for this long ends the run `errored`.
   * @defaultValue 10000
   */
  segmentHeartbeatTimeoutMs?: number;
  /**
   * A run whose heartbeat is older than this is ended `errored`.
   * @defaultValue 20000
   */
  staleAfterMs?: number;
  /**
   * Sweeper and reconciler period.
   * @defaultValue 5000
   */
  sweepEveryMs?: number;
  /**
   * Delay before retrying a run whose target is busy.
   * @defaultValue 2000
   */
  busyRetryMs?: number;
  /** Override the runner's ports (tests wrap the real ones to observe calls). */
  deps?: TRunnerDeps;
  /** Runner heartbeat period (ms). @defaultValue 2000 */
  heartbeatMs?: number;
  /** How long a run's steady state may take to hold before it is aborted (ms). @defaultValue 30000 */
  steadyStateWaitMs?: number;
  /** Log line sink. @defaultValue stderr */
  log?: (line: string) => void;
  onEvent?: (e: TStoredRunEvent) => void;
  /** Fire cron schedules (BullMQ job schedulers) in this worker (`faultline worker`, `up`). @defaultValue false */
  schedules?: boolean;
  /**
   * Serve faultline's own `/metrics` (runs by verdict, active faults, collector lag);
   * host/port default to FAULTLINE_METRICS_HOST / FAULTLINE_METRICS_PORT, else 127.0.0.1:9464.
   * @defaultValue false (not served)
   */
  metrics?: { host?: string; port?: number } | false;
}

export interface TRunningWorker {
  workerId: string;
  /** The runs queue's worker (absent without the `runs` role). */
  worker: Worker | undefined;
  /** The load queue's worker (absent without the `load` role). */
  loadWorker: Worker | undefined;
  platform: TPlatform;
  stop(): Promise<void>;
}

export async function startWorker(o: StartWorkerOptions = {}): Promise<TRunningWorker> {
  const p = o.platform ?? getPlatform(o);
  const workerId = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const log = o.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const shutdown = new AbortController();
  const ctx: TWorkerContext = { p, workerId, log, signal: shutdown.signal };

  const runJob = bindRunJob(ctx, o);
  const loadJob = bindLoadJob(ctx);
  const roles = new Set(o.roles ?? ['runs', 'load']);
  // BullMQ does not close a connection it was handed: keep them to disconnect on stop.
  const connection = p.newRedis();
  const loadConnection = p.newRedis();
  const worker = roles.has('runs')
    ? createJobWorker({
        queueName: RUNS_QUEUE,
        connection,
        prefix: p.prefix,
        defs: [runJob],
        concurrency: o.concurrency ?? 2,
        // A crashed worker's job is handed out again once (executeRun then ends the run errored).
        worker: { maxStalledCount: 1, stalledInterval: 15_000, lockDuration: 30_000 },
      })
    : undefined;
  // A segment cannot be resumed (its part of the schedule is past): a stalled one fails, the coordinator ends the run.
  const loadWorker = roles.has('load')
    ? createJobWorker({
        queueName: LOAD_QUEUE,
        connection: loadConnection,
        prefix: p.prefix,
        defs: [loadJob],
        concurrency: o.loadConcurrency ?? 1,
        worker: { maxStalledCount: 0, stalledInterval: 10_000, lockDuration: 20_000 },
      })
    : undefined;
  for (const w of [worker, loadWorker]) {
    w?.on('failed', (job, err) => log(`[worker] job ${job?.id ?? '?'} failed: ${err.message}`));
    w?.on('error', (err) => log(`[worker] ${err.message}`));
  }

  const reconciler = startFaultReconciler(p, o, log);
  const sweepTimer = startSweeper(p, o, log, reconciler);

  const schedules = o.schedules ? await startPlatformSchedules(p) : undefined;
  const metricsServer = o.metrics ? await serveWorkerMetrics(p, o.metrics, log) : undefined;

  await worker?.waitUntilReady();
  await loadWorker?.waitUntilReady();
  return {
    workerId,
    worker,
    loadWorker,
    platform: p,
    async stop() {
      clearInterval(sweepTimer);
      // Running runs see the abort and end `errored` with their faults removed.
      shutdown.abort();
      await worker?.close();
      await loadWorker?.close();
      await reconciler.stop();
      await schedules?.close();
      if (metricsServer) await new Promise<void>((r) => metricsServer!.close(() => r()));
      connection.disconnect();
      loadConnection.disconnect();
    },
  };
}

/** What the job handlers of one worker process share. */
interface TWorkerContext {
  p: TPlatform;
  workerId: string;
  log: (line: string) => void;
  /** Aborted by `stop()`: running runs end `errored`, segments stop. */
  signal: AbortSignal;
}

/** The run job bound to this process: executes the run; a busy target delays the job without spending an attempt. */
function bindRunJob(c: TWorkerContext, o: StartWorkerOptions) {
  const deps = o.deps ?? realDeps;
  return defineJob({
    ...runJob,
    handler: async ({ runId }, { job, token }) => {
      try {
        const state = await executeRun(runId, {
          platform: c.p,
          deps,
          workerId: c.workerId,
          signal: c.signal,
          heartbeatMs: o.heartbeatMs,
          steadyStateWaitMs: o.steadyStateWaitMs,
          segmentHeartbeatTimeoutMs: o.segmentHeartbeatTimeoutMs,
          onEvent: o.onEvent,
        });
        c.log(`[worker] run ${runId} ended ${state}`);
        return { state };
      } catch (e) {
        if (e instanceof TargetBusyError) {
          // Not a failure: wait for the target without spending an attempt.
          await job.moveToDelayed(Date.now() + (o.busyRetryMs ?? 2000), token);
          throw new DelayedError();
        }
        throw e;
      }
    },
  });
}

/** The load-segment job bound to this process: runs one segment of a split load. */
function bindLoadJob(c: TWorkerContext) {
  return defineJob({
    ...loadSegmentJob,
    handler: async (payload) => {
      const r = await runSegmentJob(c.p, payload, { workerId: c.workerId, signal: c.signal });
      c.log(`[worker] load ${payload.loadId} segment ${payload.index + 1}/${payload.count} ended (exit ${r.exitCode})${r.stopped ? `: ${r.stopped}` : ''}`);
      return r;
    },
  });
}

/** Removes faults whose run ended or expired, or whose holder is gone (chaos/). */
function startFaultReconciler(p: TPlatform, o: StartWorkerOptions, log: (line: string) => void) {
  return startReconciler(
    // undoCommand: a target's process faults are undone by the target file's own commands
    { toxiproxyUrl: p.toxiproxyUrl, supervisorUrl: p.supervisorUrl, db: p.db, undoCommand: undoCommandFault },
    {
      isRunActive: isRunActiveInDb(p.db),
      intervalMs: o.sweepEveryMs ?? 5000,
      onResult: (r) => log(`[reconciler] removed ${r.removed.length} orphaned fault(s)${r.failed.length ? `, ${r.failed.length} removal(s) failed` : ''}`),
      onError: (e) => log(`[reconciler] ${(e as Error).message}`),
    },
  );
}

/** Ends stalled and orphaned queued runs now and every `sweepEveryMs`; the timer is cleared by `stop()`. */
function startSweeper(p: TPlatform, o: StartWorkerOptions, log: (line: string) => void, reconciler: ReturnType<typeof startReconciler>): NodeJS.Timeout {
  let sweeping = false;
  const sweep = async () => {
    if (sweeping) return;
    sweeping = true;
    try {
      for (const id of await sweepStalledRuns(p, o.staleAfterMs ?? 20_000)) log(`[sweeper] run ${id} stalled: ended errored`);
      for (const id of await sweepOrphanQueuedRuns(p, 10 * 60_000)) log(`[sweeper] queued run ${id} had no job: ended errored`);
      // a run just ended by the sweeper: remove its faults now rather than at the next reconciler pass
      await reconciler.runOnce().catch(() => undefined);
    } catch (e) {
      log(`[sweeper] ${(e as Error).message}`);
    } finally {
      sweeping = false;
    }
  };
  void sweep();
  return setInterval(() => void sweep(), o.sweepEveryMs ?? 5000);
}

/** faultline's own `/metrics`, or undefined when the port cannot be had. */
async function serveWorkerMetrics(
  p: TPlatform,
  metrics: { host?: string; port?: number },
  log: (line: string) => void,
): Promise<import('node:http').Server | undefined> {
  const cfg = loadConfig();
  const host = metrics.host ?? cfg.FAULTLINE_METRICS_HOST;
  const port = metrics.port ?? cfg.FAULTLINE_METRICS_PORT;
  // A second worker on the same machine finds the port taken: metrics are optional, running is not.
  const server = await serveSelfMetrics(p.db, { host, port }).catch((e: unknown) => {
    log(`[worker] /metrics not served on ${host}:${port}: ${(e as Error).message}`);
    return undefined;
  });
  if (server) log(`[worker] faultline metrics on http://${host}:${port}/metrics`);
  return server;
}
