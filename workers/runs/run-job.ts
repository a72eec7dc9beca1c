/** The BullMQ job that executes a run (job registry definition; the handler is bound in main.ts). */
import { z } from 'zod';
import type { TJobSpec } from '../jobs/index.js';

export const RUN_JOB_NAME = 'run.execute';
export const RUN_JOB_VERSION = 1;
export const RunJobPayloadSchema = z.object({ runId: z.string().min(1) }).strict();
export type TRunJobPayload = z.infer<typeof RunJobPayloadSchema>;

/** The one definition of the run job: enqueueRun adds it, the worker (main.ts) binds its handler to it. */
export const runJob: TJobSpec<typeof RunJobPayloadSchema> = { name: RUN_JOB_NAME, version: RUN_JOB_VERSION, schema: RunJobPayloadSchema };
