import { z } from 'zod';
import { route } from '../../../_lib/route.js';
import { db } from '../../../_lib/deps.js';
import { scheduleDeps } from '../../../_lib/schedules.js';
import { scheduleHistory } from '../../../_lib/queries.js';
import { deleteSchedule, getSchedule, SchedulePatchSchema, updateSchedule, withNextFires } from '../../../../workers/schedules/index.js';

export const dynamic = 'force-dynamic';

const Params = z.object({ id: z.string().regex(/^sch_[0-9a-f]{12}$/, 'schedule id') });

export const GET = route({ role: 'viewer', params: Params }, async ({ params }) => ({
  schedule: withNextFires(await getSchedule(db(), params.id), 5),
  history: await scheduleHistory(db(), params.id, 100),
}));

/** Edit or enable/disable (`{enabled:false}`). */
export const PATCH = route({ role: 'operator', params: Params, body: SchedulePatchSchema }, async ({ params, body }) =>
  withNextFires(await updateSchedule(scheduleDeps(), params.id, body)),
);

export const DELETE = route({ role: 'operator', params: Params }, async ({ params }) => {
  await deleteSchedule(scheduleDeps(), params.id);
  return { ok: true };
});
