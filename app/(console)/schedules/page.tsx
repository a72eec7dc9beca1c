import { requireUser } from '../../_lib/page-auth.js';
import { listAll, listSuites } from '../../_lib/experiments.js';
import { db } from '../../_lib/deps.js';
import { SchedulesView } from './schedules-view.js';

export const dynamic = 'force-dynamic';

export default async function SchedulesPage() {
  const user = await requireUser();
  const [experiments, suites] = await Promise.all([
    listAll(db())
      .then((l) => l.map((e) => e.id))
      .catch(() => []),
    listSuites(),
  ]);
  return (
    <>
      <h1>Schedules</h1>
      <SchedulesView canEdit={user.role === 'operator'} experiments={experiments} suites={suites} />
    </>
  );
}
