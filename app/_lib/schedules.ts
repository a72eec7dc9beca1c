/** The console's schedule handles: CRUD deps on the platform, and the page's view. */
import { platformScheduleDeps, withNextFires, type TScheduleDeps } from '../../workers/schedules/index.js';
import { db } from './deps.js';
import { listSchedules, scheduleHistory } from './queries.js';
import { platform } from './runs.js';

export function scheduleDeps(): TScheduleDeps {
  return platformScheduleDeps(platform());
}

export async function schedulesView() {
  const d = db();
  const [rows, history] = await Promise.all([listSchedules(d), scheduleHistory(d, undefined, 100)]);
  return { schedules: rows.map((s) => withNextFires(s, 3)), history };
}
