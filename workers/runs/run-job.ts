/** The BullMQ job that executes a run (job registry definition; the handler is bound in main.ts). */
import { z } from 'zod';

export const RUN_JOB_NAME = 'run.execute';
export const RUN_JOB_VERSION = 1;
export const RunJobPayloadSchema = z.object({ runId: z.string().min(1) }).strict();
export type TRunJobPayload = z.infer<typeof RunJobPayloadSchema>;
