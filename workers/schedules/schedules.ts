/**
 * Schedules: rows in `schedules` (the truth) mirrored as BullMQ job
 * schedulers (the clock). Every write updates both; `syncSchedulers`
 * repairs drift (e.g. Redis flushed) at worker start.
 *
 *   console/CLI ─▶ createSchedule ─▶ schedules row ─▶ queue.upsertJobScheduler(id, {pattern, tz})
 *                                                         │ at each fire time
 *                                                         ▼
 *                                              job `schedule.fire` {v:1, scheduleId} ─▶ fireSchedule (fire.ts)
 */
import { randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import type { Queue } from 'bullmq';
import { AppError } from '../../core/errors.js';
import { parseWith } from '../../core/validate.js';
import type { TDb } from '../../db/client.js';
import { schedules } from '../../db/schema/index.js';
import { nextFireTimes } from './cron.js';
import { SCHEDULE_FIRE_JOB, ScheduleInputSchema, SchedulePatchSchema, type TScheduleFireJob, type TScheduleInput, type TSchedulePatch } from './schema.js';

export type TSchedule = typeof schedules.$inferSelect;

/** What a schedule needs to know about the thing it runs (injected: the runner owns runs). */
export interface TRunStarter {
  /** Targets (`runs.target`) the experiment or every experiment of the suite holds; NOT_FOUND when `ref` is unknown. */
  targets(kind: 'experiment' | 'suite', ref: string): Promise<string[]>;
  /** Start it now for the schedule; returns the run ids. Throws AppError BUSY when a target is taken meanwhile. */
  start(kind: 'experiment' | 'suite', ref: string, ctx: { scheduleId: string }): Promise<string[]>;
}

export interface TScheduleDeps {
  db: TDb;
  /** The queue whose job schedulers fire schedules. */
  queue: Queue;
  starter: TRunStarter;
}

async function upsertScheduler(queue: Queue, s: TSchedule): Promise<void> {
  if (!s.enabled) {
    await queue.removeJobScheduler(s.id);
    return;
  }
  const data: TScheduleFireJob = { v: 1, scheduleId: s.id };
  await queue.upsertJobScheduler(
    s.id,
    { pattern: s.cron, tz: s.timezone },
    // Keep a bounded tail of fired jobs in Redis; the history lives in schedule_fires.
    { name: SCHEDULE_FIRE_JOB, data, opts: { removeOnComplete: 100, removeOnFail: 100, attempts: 3, backoff: { type: 'exponential', delay: 1000 } } },
  );
}

export async function createSchedule(deps: TScheduleDeps, input: TScheduleInput, createdBy: string): Promise<TSchedule> {
  const spec = parseWith(ScheduleInputSchema, input, 'schedule');
  // Refuse a schedule of something that does not exist now rather than at 3 am.
  await deps.starter.targets(spec.kind, spec.ref).catch((e) => {
    if (e instanceof AppError && e.code === 'NOT_FOUND')
      throw new AppError('VALIDATION', 'invalid schedule', { issues: [{ path: 'ref', message: e.message }] });
    throw e;
  });
  const id = `sch_${randomBytes(6).toString('hex')}`;
  const [row] = await deps.db
    .insert(schedules)
    .values({ id, ...spec, createdBy })
    .returning();
  try {
    await upsertScheduler(deps.queue, row);
  } catch (e) {
    await deps.db.delete(schedules).where(eq(schedules.id, id));
    throw new AppError('UNAVAILABLE', `could not register the schedule in Redis: ${(e as Error).message}`);
  }
  return row;
}

export async function getSchedule(db: TDb, id: string): Promise<TSchedule> {
  const [row] = await db.select().from(schedules).where(eq(schedules.id, id)).limit(1);
  if (!row) throw new AppError('NOT_FOUND', `no schedule ${id}`);
  return row;
}

export async function updateSchedule(deps: TScheduleDeps, id: string, patch: TSchedulePatch): Promise<TSchedule> {
  const p = parseWith(SchedulePatchSchema, patch, 'schedule');
  const current = await getSchedule(deps.db, id);
  // Validate the merged result so cron + timezone are checked together.
  const merged = parseWith(ScheduleInputSchema, { ...current, ...p }, 'schedule');
  if (p.ref !== undefined || p.kind !== undefined) await deps.starter.targets(merged.kind, merged.ref);
  const [row] = await deps.db
    .update(schedules)
    .set({ ...merged, updatedAt: new Date() })
    .where(eq(schedules.id, id))
    .returning();
  await upsertScheduler(deps.queue, row);
  return row;
}

export async function setScheduleEnabled(deps: TScheduleDeps, id: string, enabled: boolean): Promise<TSchedule> {
  await getSchedule(deps.db, id);
  const [row] = await deps.db.update(schedules).set({ enabled, updatedAt: new Date() }).where(eq(schedules.id, id)).returning();
  await upsertScheduler(deps.queue, row);
  return row;
}

export async function deleteSchedule(deps: Pick<TScheduleDeps, 'db' | 'queue'>, id: string): Promise<void> {
  await getSchedule(deps.db, id);
  await deps.queue.removeJobScheduler(id);
  await deps.db.delete(schedules).where(eq(schedules.id, id));
}

/** Make Redis match the table: add missing / changed schedulers, drop orphans. */
export async function syncSchedulers(deps: Pick<TScheduleDeps, 'db' | 'queue'>): Promise<{ upserted: number; removed: number }> {
  const rows = await deps.db.select().from(schedules);
  const known = new Set(rows.filter((r) => r.enabled).map((r) => r.id));
  let removed = 0;
  for (const js of await deps.queue.getJobSchedulers(0, -1)) {
    if (js.key && !known.has(js.key)) {
      await deps.queue.removeJobScheduler(js.key);
      removed++;
    }
  }
  for (const r of rows) await upsertScheduler(deps.queue, r);
  return { upserted: known.size, removed };
}

/** Schedule plus its next fire times (none when disabled). */
export function withNextFires(s: TSchedule, count = 3, from = new Date()): TSchedule & { next: string[] } {
  return { ...s, next: s.enabled ? nextFireTimes(s.cron, s.timezone, count, from).map((d) => d.toISOString()) : [] };
}
