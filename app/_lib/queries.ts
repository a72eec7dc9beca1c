/**
 * The console's read models: plain selects over the platform tables that the
 * pages and API routes show. Writes never happen here — they go through the
 * owning module (runner, fault catalog, schedules).
 */
import { and, desc, eq, inArray, isNull, notInArray, sql } from 'drizzle-orm';
import { experiments, faults, reports, runs, scheduleFires, schedules, TERMINAL_RUN_STATES, violations } from '../../db/schema/index.js';
import type { TDb } from '../../db/client.js';
import { AppError } from '../../core/errors.js';

export async function activeFaults(db: TDb) {
  return db
    .select({
      id: faults.id,
      type: faults.type,
      target: faults.target,
      runId: faults.runId,
      status: faults.status,
      appliedAt: faults.appliedAt,
      expiresAt: faults.expiresAt,
      params: faults.params,
    })
    .from(faults)
    .where(and(isNull(faults.removedAt), inArray(faults.status, ['applying', 'active', 'failed'])))
    .orderBy(faults.appliedAt);
}

export type TRunRow = Awaited<ReturnType<typeof listRuns>>[number];

export async function listRuns(db: TDb, opts: { limit?: number; experimentId?: string } = {}) {
  return db
    .select({
      id: runs.id,
      experimentId: runs.experimentId,
      experimentName: runs.experimentName,
      target: runs.target,
      state: runs.state,
      reason: runs.reason,
      trigger: runs.trigger,
      scheduleId: runs.scheduleId,
      summary: runs.summary,
      createdAt: runs.createdAt,
      runningAt: runs.runningAt,
      endedAt: runs.endedAt,
    })
    .from(runs)
    .where(opts.experimentId ? eq(runs.experimentId, opts.experimentId) : undefined)
    .orderBy(desc(runs.createdAt))
    .limit(Math.min(opts.limit ?? 50, 500));
}

export async function activeRuns(db: TDb) {
  return db
    .select({ id: runs.id, experimentName: runs.experimentName, target: runs.target, state: runs.state, createdAt: runs.createdAt })
    .from(runs)
    .where(notInArray(runs.state, [...TERMINAL_RUN_STATES]))
    .orderBy(desc(runs.createdAt));
}

/** An id no row can have (a NUL PostgreSQL would refuse, or absurd length): not found, without asking the database. */
function impossibleId(id: string): boolean {
  return id.length === 0 || id.length > 128 || id.includes('\u0000');
}

export async function getRun(db: TDb, id: string) {
  if (impossibleId(id)) throw new AppError('NOT_FOUND', `no run ${id.replaceAll('\u0000', '\\0').slice(0, 64)}`);
  const [run] = await db.select().from(runs).where(eq(runs.id, id)).limit(1);
  if (!run) throw new AppError('NOT_FOUND', `no run ${id}`);
  return run;
}

export async function runReport(db: TDb, runId: string) {
  const [r] = await db.select().from(reports).where(eq(reports.runId, runId)).limit(1);
  return r ?? null;
}

export async function runViolations(db: TDb, runId: string) {
  return db.select().from(violations).where(eq(violations.runId, runId)).orderBy(violations.id);
}

export async function listStoredExperiments(db: TDb) {
  return db
    .select({
      id: experiments.id,
      name: experiments.name,
      description: experiments.description,
      sourcePath: experiments.sourcePath,
      updatedAt: experiments.updatedAt,
    })
    .from(experiments)
    .orderBy(experiments.name);
}

export async function getStoredExperiment(db: TDb, id: string) {
  if (impossibleId(id)) return null;
  const [e] = await db.select().from(experiments).where(eq(experiments.id, id)).limit(1);
  return e ?? null;
}

/** Last run (any state) per experiment, for the experiments list. */
export async function lastRunPerExperiment(db: TDb) {
  const rows = await db.execute<{ experiment_name: string; id: string; state: string; created_at: string }>(
    sql`select distinct on (experiment_name) experiment_name, id, state, created_at from runs order by experiment_name, created_at desc`,
  );
  return new Map(rows.rows.map((r) => [r.experiment_name, { id: r.id, state: r.state, createdAt: r.created_at }]));
}

export async function listSchedules(db: TDb) {
  return db.select().from(schedules).orderBy(schedules.name);
}

export async function scheduleHistory(db: TDb, scheduleId?: string, limit = 50) {
  return db
    .select({
      id: scheduleFires.id,
      scheduleId: scheduleFires.scheduleId,
      scheduleName: schedules.name,
      firedAt: scheduleFires.firedAt,
      outcome: scheduleFires.outcome,
      runIds: scheduleFires.runIds,
      reason: scheduleFires.reason,
    })
    .from(scheduleFires)
    .innerJoin(schedules, eq(schedules.id, scheduleFires.scheduleId))
    .where(scheduleId ? eq(scheduleFires.scheduleId, scheduleId) : undefined)
    .orderBy(desc(scheduleFires.firedAt))
    .limit(Math.min(limit, 500));
}
