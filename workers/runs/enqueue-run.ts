/**
 * Create a run and queue it: validate the experiment, upsert its
 * definition, insert the run row (`queued`), add the BullMQ job (job id =
 * run id, so a run is queued at most once). While the safety lever is
 * engaged every new run is refused (AppError HALTED: HTTP 423, exit 3),
 * whoever asks: console, CLI, API or a schedule firing.
 */
import { randomInt } from 'node:crypto';
import path from 'node:path';
import { Snowflake } from '@sapphire/snowflake';
import { sql } from 'drizzle-orm';
import { z } from 'zod';
import { assertLeverReleased } from '../../chaos/index.js';
import { parseWith } from '../../core/validate.js';
import { experiments, runs, RUN_TRIGGERS, type TRunTrigger } from '../../db/schema/index.js';
import { ExperimentSchema, parseExperiment, resolveExperimentRefs, type TExperiment } from '../../experiments/index.js';
import { enqueueJob } from '../jobs/index.js';
import type { TPlatform } from '../platform.js';
import { runJob } from './run-job.js';

const snowflake = new Snowflake(new Date('2026-01-01T00:00:00Z'));
// Console, CLI and workers all create runs: a random generator slot per process keeps their ids apart.
const slot = { workerId: BigInt(randomInt(32)), processId: BigInt(process.pid % 32) };

/** BullMQ job id of a run (BullMQ refuses purely numeric custom ids). */
export function runJobId(runId: string): string {
  return `run-${runId}`;
}

/** Time-ordered 64-bit run ids as decimal strings. */
export function newRunId(): string {
  return snowflake.generate(slot).toString();
}

export const EnqueueRunInputSchema = z
  .object({
    /** The experiment as YAML text (console upload, CLI file) … */
    yaml: z.string().min(1).optional(),
    /** … or an already parsed experiment (from experiments/ loaders). */
    experiment: z.unknown().optional(),
    /** Where the YAML came from (shown in reports). */
    sourcePath: z.string().optional(),
    trigger: z.enum(RUN_TRIGGERS).default('api'),
    /** Report directory for this run; default `<REPORT_DIR>/<runId>`. */
    reportDir: z.string().min(1).optional(),
    scheduleId: z.string().optional(),
    suiteRunId: z.string().optional(),
  })
  .strict()
  .refine((v) => v.yaml !== undefined || v.experiment !== undefined, { message: 'give either yaml or experiment', path: ['yaml'] });
export type TEnqueueRunInput = z.input<typeof EnqueueRunInputSchema>;

export async function enqueueRun(p: TPlatform, input: TEnqueueRunInput): Promise<{ runId: string; experiment: TExperiment }> {
  const i = parseWith(EnqueueRunInputSchema, input, 'run request');
  // A parsed experiment holds durations in ms; only YAML / raw input goes through the schema again.
  const parsed: TExperiment =
    i.yaml !== undefined
      ? parseExperiment(i.yaml, i.sourcePath ?? 'experiment.yaml')
      : isParsed(i.experiment)
        ? i.experiment
        : parseWith(ExperimentSchema, i.experiment, 'experiment');
  // a target or scenario file named relative to the experiment file: the run keeps absolute paths
  const experiment = i.sourcePath ? resolveExperimentRefs(parsed, path.dirname(path.resolve(i.sourcePath))) : parsed;
  // Checked before anything is written: a refused run leaves no row and no job.
  await assertLeverReleased(p.db, 'new runs');
  const runId = newRunId();
  await p.db
    .insert(experiments)
    .values({
      id: experiment.name,
      name: experiment.name,
      description: experiment.description,
      sourcePath: i.sourcePath ?? null,
      sourceText: i.yaml ?? null,
      definition: experiment,
    })
    .onConflictDoUpdate({
      target: experiments.id,
      set: {
        description: experiment.description,
        definition: experiment,
        updatedAt: sql`now()`,
        ...(i.sourcePath ? { sourcePath: i.sourcePath } : {}),
        ...(i.yaml ? { sourceText: i.yaml } : {}),
      },
      // A run of a file never overwrites an edited copy saved from the console (source_path null): the copy is the user's.
      ...(i.sourcePath ? { setWhere: sql`${experiments.sourcePath} is not null` } : {}),
    });
  await p.db.insert(runs).values({
    id: runId,
    experimentId: experiment.name,
    experimentName: experiment.name,
    target: experiment.target,
    trigger: i.trigger as TRunTrigger,
    definition: experiment,
    reportDir: i.reportDir ?? null,
    scheduleId: i.scheduleId ?? null,
    suiteRunId: i.suiteRunId ?? null,
  });
  // One attempt: a run is never re-executed after it started (a busy target re-delays the job without using attempts).
  await enqueueJob(p.queue, runJob, { runId }, { jobId: runJobId(runId), attempts: 1 });
  return { runId, experiment };
}

/** A value produced by ExperimentSchema (durations already numbers, defaults filled). */
function isParsed(v: unknown): v is TExperiment {
  const e = v as Partial<TExperiment> | null;
  return (
    !!e &&
    typeof e === 'object' &&
    typeof e.quiescence === 'number' &&
    Array.isArray(e.faults) &&
    Array.isArray(e.abort) &&
    typeof e.expectations === 'object' &&
    e.faults.every((f) => typeof f.at === 'number' && typeof f.duration === 'number')
  );
}
