/**
 * Job registry (STYLE.md, after documenso's): a job is a definition — a
 * typed, versioned name, a zod payload schema validated in the worker, and
 * its handler. The BullMQ job name is `<name>@v<version>`, so a payload
 * shape change ships as a new version next to the old one.
 *
 *   enqueueJob(def, payload) ─ parse ─▶ Queue.add('<name>@v<n>')
 *   worker ─▶ find def by name ─▶ parse payload ─┬─ bad: UnrecoverableError (no retry)
 *                                               └─ handler ─ transient error: retry with backoff
 */
import { DelayedError, Queue, UnrecoverableError, Worker, type ConnectionOptions, type Job, type JobsOptions, type WorkerOptions } from 'bullmq';
import type { z } from 'zod';
import { AppError, isAppError } from '../../core/errors.js';
import { parseWith } from '../../core/validate.js';

export interface TJobContext {
  job: Job;
  /** Worker token (needed to move a job back to delayed). */
  token?: string;
}

/**
 * A job's contract, the one definition that enqueue and worker share: the
 * versioned name and the payload schema. A worker adds the handler
 * (`defineJob({ ...spec, handler })`); enqueueing needs only the spec.
 */
export interface TJobSpec<S extends z.ZodType = z.ZodType> {
  name: string;
  version: number;
  schema: S;
  /** Defaults for every enqueue of this job (attempts, backoff, removal). */
  defaults?: JobsOptions;
}

export interface TJobDefinition<S extends z.ZodType = z.ZodType> extends TJobSpec<S> {
  handler: (payload: z.infer<S>, ctx: TJobContext) => Promise<unknown>;
}

export function defineJob<S extends z.ZodType>(def: TJobDefinition<S>): TJobDefinition<S> {
  return def;
}

export function jobKey(def: Pick<TJobDefinition, 'name' | 'version'>): string {
  return `${def.name}@v${def.version}`;
}

/** Retry transient failures 5 times, 1 s, 2 s, 4 s … apart. */
export const DEFAULT_JOB_OPTIONS: JobsOptions = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 1000 },
  removeOnComplete: { age: 7 * 86_400, count: 1000 },
  removeOnFail: { age: 30 * 86_400 },
};

/** Validate the payload, then add it. Bad payloads never reach Redis. */
export async function enqueueJob<S extends z.ZodType>(queue: Queue, def: TJobSpec<S>, payload: z.input<S>, opts: JobsOptions = {}): Promise<Job> {
  const data = parseWith(def.schema, payload, `${jobKey(def)} payload`);
  return queue.add(jobKey(def), data, { ...DEFAULT_JOB_OPTIONS, ...def.defaults, ...opts });
}

/** Errors that retrying cannot fix: bad input, missing rows. */
function isPermanent(e: unknown): boolean {
  return isAppError(e) && (e.code === 'VALIDATION' || e.code === 'NOT_FOUND' || e.code === 'TARGET_NOT_ALLOWED' || e.code === 'FORBIDDEN');
}

/** The processor for a set of definitions (exported for tests without a Worker). */
export function createProcessor(defs: readonly TJobDefinition[]): (job: Job, token?: string) => Promise<unknown> {
  const byKey = new Map(defs.map((d) => [jobKey(d), d]));
  return async (job, token) => {
    const def = byKey.get(job.name);
    if (!def) throw new UnrecoverableError(`unknown job "${job.name}" (known: ${[...byKey.keys()].join(', ')})`);
    const r = def.schema.safeParse(job.data);
    if (!r.success) {
      const issues = r.error.issues.map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`).join('; ');
      throw new UnrecoverableError(`invalid ${job.name} payload: ${issues}`);
    }
    try {
      return await def.handler(r.data, { job, token });
    } catch (e) {
      if (e instanceof DelayedError || e instanceof UnrecoverableError) throw e;
      if (isPermanent(e)) throw new UnrecoverableError((e as AppError).toText());
      throw e;
    }
  };
}

export interface CreateJobWorkerOptions {
  queueName: string;
  connection: ConnectionOptions;
  /** BullMQ key prefix. @defaultValue 'faultline' */
  prefix?: string;
  defs: readonly TJobDefinition[];
  /** Jobs processed at once. @defaultValue 4 */
  concurrency?: number;
  /** Extra BullMQ worker options (stall detection, lock duration). */
  worker?: Partial<WorkerOptions>;
}

export function createJobWorker(o: CreateJobWorkerOptions): Worker {
  return new Worker(o.queueName, createProcessor(o.defs), {
    connection: o.connection,
    prefix: o.prefix ?? 'faultline',
    concurrency: o.concurrency ?? 4,
    ...o.worker,
  });
}
