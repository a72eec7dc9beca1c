/** The one schema of a schedule as an API body or CLI input. */
import { z } from 'zod';
import { cronProblem, isValidTimeZone } from './cron.js';

export const ScheduleInputSchema = z.object({
  name: z.string().trim().min(1, 'required').max(100),
  kind: z.enum(['experiment', 'suite']),
  /** Experiment id (its name) or suite name. */
  ref: z.string().trim().min(1, 'required').max(200),
  cron: z
    .string()
    .trim()
    .min(1, 'required')
    .superRefine((v, ctx) => {
      const p = cronProblem(v);
      if (p) ctx.addIssue({ code: 'custom', message: p });
    }),
  timezone: z
    .string()
    .trim()
    .default('UTC')
    .refine(isValidTimeZone, { message: 'unknown time zone (use an IANA name such as UTC or Europe/Berlin)' }),
  enabled: z.boolean().default(true),
});
export type TScheduleInput = z.input<typeof ScheduleInputSchema>;
export type TScheduleSpec = z.infer<typeof ScheduleInputSchema>;

export const SchedulePatchSchema = ScheduleInputSchema.partial();
export type TSchedulePatch = z.infer<typeof SchedulePatchSchema>;

/** Payload of the BullMQ job a scheduler emits (versioned, validated in the worker). */
export const ScheduleFireJobSchema = z.object({ v: z.literal(1), scheduleId: z.string().min(1) });
export type TScheduleFireJob = z.infer<typeof ScheduleFireJobSchema>;
export const SCHEDULE_FIRE_JOB = 'schedule.fire';
