/**
 * Which runs are active (not in a terminal state). The fault layer does not
 * read the runs table (issue 11): the reconciler is handed `isRunActiveInDb`,
 * and the safety lever aborts `activeRuns`.
 */
import { eq, notInArray } from 'drizzle-orm';
import type { TDb } from '../../db/client.js';
import { isTerminal, runs, TERMINAL_RUN_STATES, type TRunState } from '../../db/schema/index.js';

/** The reconciler's run liveness: the run exists and is not in a terminal state (an unknown run is not active). */
export function isRunActiveInDb(db: TDb): (runId: string) => Promise<boolean> {
  return async (runId) => {
    const [r] = await db.select({ state: runs.state }).from(runs).where(eq(runs.id, runId));
    return !!r && !isTerminal(r.state);
  };
}

/** Every run not yet ended, oldest first, with its state (queued ones included). */
export async function activeRuns(db: TDb): Promise<{ id: string; state: TRunState; experimentName: string }[]> {
  return db
    .select({ id: runs.id, state: runs.state, experimentName: runs.experimentName })
    .from(runs)
    .where(notInArray(runs.state, [...TERMINAL_RUN_STATES]))
    .orderBy(runs.createdAt);
}
