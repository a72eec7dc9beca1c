import { requireUser } from '../../_lib/page-auth.js';
import { listAll } from '../../_lib/experiments.js';
import { db } from '../../_lib/deps.js';
import { SchedulesView } from './schedules-view.js';

export const dynamic = 'force-dynamic';

export default async function SchedulesPage() {
  const user = await requireUser();
  const experiments = (await listAll(db()).catch(() => [])).map((e) => e.id);
  return (
    <>
      <h1>Schedules</h1>
      <SchedulesView canEdit={user.role === 'operator'} experiments={experiments} suites={['ci', 'full']} />
    </>
  );
}
