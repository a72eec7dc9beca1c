/** The one schema of a schedule as an API body or CLI input. */
import { z } from 'zod';
import { cronProblem, isValidTimeZone } from './cron.js';

const TimezoneSchema = z.string().trim().refine(isValidTimeZone, { message: 'unknown time zone (use an IANA name such as UTC or Europe/Berlin)' });

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
  timezone: TimezoneSchema.default('UTC'),
  enabled: z.boolean().default(true),
});
export type TScheduleInput = z.input<typeof ScheduleInputSchema>;
export type TScheduleSpec = z.infer<typeof ScheduleInputSchema>;

/** A patch carries no defaults: `{enabled:false}` must not reset the time zone. */
export const SchedulePatchSchema = ScheduleInputSchema.extend({ timezone: TimezoneSchema, enabled: z.boolean() }).partial();
export type TSchedulePatch = z.infer<typeof SchedulePatchSchema>;

/** Payload of the BullMQ job a scheduler emits (versioned, validated in the worker). */
export const ScheduleFireJobSchema = z.object({ v: z.literal(1), scheduleId: z.string().min(1) });
export type TScheduleFireJob = z.infer<typeof ScheduleFireJobSchema>;
export const SCHEDULE_FIRE_JOB = 'schedule.fire';
