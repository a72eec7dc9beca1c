import Link from 'next/link';
import { db } from '../../_lib/deps.js';
import { listRuns } from '../../_lib/queries.js';
import { requireUser } from '../../_lib/page-auth.js';
import { AutoRefresh } from '../../_components/auto-refresh.js';
import { DataTable } from '../../_components/data-table.js';
import { Panel } from '../../_components/panel.js';
import { ErrorBox } from '../../_components/states.js';
import { Time } from '../../_components/time.js';
import { VerdictBadge } from '../../_components/verdict-badge.js';
import { dur } from '../../_components/format.js';
import { toAppError } from '../../../core/errors.js';

export const dynamic = 'force-dynamic';

export default async function RunsPage() {
  await requireUser();
  let runs: Awaited<ReturnType<typeof listRuns>> = [];
  let error: string | null = null;
  try {
    runs = await listRuns(db(), { limit: 200 });
  } catch (e) {
    error = toAppError(e).message;
  }
  return (
    <>
      <h1>Runs</h1>
      <AutoRefresh />
      <Panel>
        <ErrorBox error={error} />
        {!error && (
          <DataTable
            testId="runs"
            rows={runs}
            rowKey={(r) => r.id}
            empty={
              <>
                No runs yet. Start one from <Link href="/experiments">Experiments</Link> or with <code>faultline run</code>.
              </>
            }
            columns={[
              { header: 'Run', className: 'mono', cell: (r) => <Link href={`/runs/${r.id}`}>{r.id}</Link> },
              { header: 'Experiment', cell: (r) => r.experimentName },
              { header: 'State', cell: (r) => <VerdictBadge state={r.state} /> },
              { header: 'Trigger', className: 'muted', cell: (r) => r.trigger },
              { header: 'Created', className: 'muted', cell: (r) => <Time at={r.createdAt} /> },
              { header: 'Duration', num: true, cell: (r) => (r.endedAt ? dur(r.endedAt.getTime() - r.createdAt.getTime()) : '—') },
              { header: 'Reason', className: 'muted wrap-420', cell: (r) => r.reason ?? '' },
            ]}
          />
        )}
      </Panel>
    </>
  );
}
