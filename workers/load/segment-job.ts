/** The BullMQ job of one load segment (job registry definition; the handler is bound in main.ts). */
import { z } from 'zod';
import { ScenarioSchema } from '../../loadtests/index.js';
import type { TJobSpec } from '../jobs/index.js';

export const LOAD_SEGMENT_JOB_NAME = 'load.segment';
export const LOAD_SEGMENT_JOB_VERSION = 1;

export const LoadSegmentPayloadSchema = z
  .object({
    /** The load's id (a run's load: the run id); names its streams. */
    loadId: z.string().min(1).max(200),
    /** This segment, 0-based, of `count` equal ones (`evenSegmentSpec(index, count)`). */
    index: z.number().int().min(0).max(63),
    count: z.number().int().min(1).max(64),
    scenario: ScenarioSchema,
    baseUrl: z.url(),
    /** The coordinator's one setup (users with tokens, products), handed to every segment. */
    setupData: z
      .object({
        users: z.array(
          z.object({
            email: z.string(),
            token: z.string(),
            userId: z.string().optional(),
            orders: z.array(z.object({ id: z.string(), totalCents: z.number().optional() })),
          }),
        ),
        products: z.array(z.object({ id: z.string(), priceCents: z.number() })),
      })
      .strict(),
    /** How often the worker says it is alive (ms); the coordinator's bound is a multiple of it. */
    heartbeatMs: z.number().int().min(100).max(60_000),
    /** Longest wait for the agreed start after warm-up (ms); then the segment gives up. */
    startWaitMs: z.number().int().min(1000).max(3600_000),
    history: z.boolean(),
    /** The coordinator refreshes its alive key within this bound (ms); a segment that finds the key gone stops. */
    coordinatorTimeoutMs: z.number().int().min(500).max(600_000).optional(),
  })
  .strict()
  .refine((p) => p.index < p.count, { path: ['index'], message: 'must be below count' });
export type TLoadSegmentPayload = z.infer<typeof LoadSegmentPayloadSchema>;

/** The one definition of the segment job: distributeLoad adds it, the worker (main.ts) binds its handler to it. */
export const loadSegmentJob: TJobSpec<typeof LoadSegmentPayloadSchema> = {
  name: LOAD_SEGMENT_JOB_NAME,
  version: LOAD_SEGMENT_JOB_VERSION,
  schema: LoadSegmentPayloadSchema,
};
