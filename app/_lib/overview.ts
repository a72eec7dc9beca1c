/** Everything the Overview page shows, fetched in parallel; each part fails on its own. */
import { toAppError } from '../../core/errors.js';
import { withNextFires } from '../../workers/schedules/index.js';
import { db } from './deps.js';
import { topology } from './platform.js';
import { activeFaults, activeRuns, listRuns, listSchedules } from './queries.js';

async function part<T>(fn: () => Promise<T>): Promise<{ ok: true; data: T } | { ok: false; error: string }> {
  try {
    return { ok: true, data: await fn() };
  } catch (e) {
    return { ok: false, error: toAppError(e).message };
  }
}

export async function overview() {
  const d = db();
  const [topo, faults, runs, active, schedules] = await Promise.all([
    part(topology),
    part(() => activeFaults(d)),
    part(() => listRuns(d, { limit: 12 })),
    part(() => activeRuns(d)),
    part(async () =>
      (await listSchedules(d))
        .filter((s) => s.enabled)
        .map((s) => withNextFires(s, 1))
        .sort((a, b) => (a.next[0] ?? '').localeCompare(b.next[0] ?? ''))
        .slice(0, 8),
    ),
  ]);
  return { topology: topo, faults, runs, active, schedules };
}
export type TOverview = Awaited<ReturnType<typeof overview>>;
