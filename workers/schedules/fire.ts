/**
 * One firing of a schedule. The rule: a scheduled run that finds another run
 * active on its target is skipped, and the skip is recorded (with the run
 * that held the target), never queued behind it.
 */
import { and, eq, inArray, notInArray } from 'drizzle-orm';
import { AppError } from '../../core/errors.js';
import type { TDb } from '../../db/client.js';
import { runs, scheduleFires, schedules, TERMINAL_RUN_STATES } from '../../db/schema/index.js';
import type { TRunStarter } from './schedules.js';

export type TFireOutcome = { outcome: 'started'; runIds: string[] } | { outcome: 'skipped'; reason: string } | { outcome: 'failed'; reason: string };

export async function activeRunsOn(db: TDb, targets: string[]) {
  if (!targets.length) return [];
  return db
    .select({ id: runs.id, target: runs.target, experimentName: runs.experimentName, state: runs.state })
    .from(runs)
    .where(and(inArray(runs.target, targets), notInArray(runs.state, [...TERMINAL_RUN_STATES])));
}

export interface TFireOptions {
  db: TDb;
  starter: TRunStarter;
  scheduleId: string;
  /** The BullMQ job id: a firing delivered twice is recorded once. @defaultValue none (no dedupe) */
  jobId?: string;
  /** @defaultValue now */
  firedAt?: Date;
}

export async function fireSchedule(o: TFireOptions): Promise<TFireOutcome & { recorded: boolean }> {
  const [s] = await o.db.select().from(schedules).where(eq(schedules.id, o.scheduleId)).limit(1);
  // A scheduler left behind by a deleted schedule: nothing to record against.
  if (!s) return { outcome: 'skipped', reason: `schedule ${o.scheduleId} no longer exists`, recorded: false };
  if (o.jobId) {
    const [seen] = await o.db.select({ id: scheduleFires.id }).from(scheduleFires).where(eq(scheduleFires.jobId, o.jobId)).limit(1);
    if (seen) return { outcome: 'skipped', reason: 'duplicate delivery', recorded: false };
  }
  let result: TFireOutcome;
  if (!s.enabled) result = { outcome: 'skipped', reason: 'schedule is disabled' };
  else {
    try {
      const targets = await o.starter.targets(s.kind, s.ref);
      const busy = await activeRunsOn(o.db, targets);
      if (busy.length) {
        const b = busy[0];
        result = { outcome: 'skipped', reason: `run ${b.id} (${b.experimentName}, ${b.state}) is active on target ${b.target}` };
      } else {
        result = { outcome: 'started', runIds: await o.starter.start(s.kind, s.ref, { scheduleId: s.id }) };
      }
    } catch (e) {
      // The runner refused because the target was taken between check and start: still a skip.
      if (e instanceof AppError && (e.code === 'BUSY' || e.code === 'CONFLICT')) result = { outcome: 'skipped', reason: e.message };
      else result = { outcome: 'failed', reason: e instanceof Error ? e.message : String(e) };
    }
  }
  await o.db
    .insert(scheduleFires)
    .values({
      scheduleId: s.id,
      firedAt: o.firedAt ?? new Date(),
      outcome: result.outcome,
      runIds: result.outcome === 'started' ? result.runIds : [],
      reason: result.outcome === 'started' ? null : result.reason,
      jobId: o.jobId ?? null,
    })
    .onConflictDoNothing({ target: scheduleFires.jobId });
  return { ...result, recorded: true };
}
