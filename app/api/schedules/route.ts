import { route } from '../../_lib/route.js';
import { scheduleDeps, schedulesView } from '../../_lib/schedules.js';
import { createSchedule, ScheduleInputSchema, withNextFires } from '../../../workers/schedules/index.js';

export const dynamic = 'force-dynamic';

export const GET = route({ role: 'viewer' }, async () => schedulesView());

export const POST = route({ role: 'operator', body: ScheduleInputSchema }, async ({ body, principal }) =>
  withNextFires(await createSchedule(scheduleDeps(), body, principal.name)),
);
