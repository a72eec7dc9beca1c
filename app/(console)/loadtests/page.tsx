import Link from 'next/link';
import { requireUser } from '../../_lib/page-auth.js';
import { listScenarios } from '../../_lib/loadtests.js';
import { listRuns } from '../../_lib/queries.js';
import { db } from '../../_lib/deps.js';
import { AutoRefresh } from '../../_components/auto-refresh.js';
import { DataTable } from '../../_components/data-table.js';
import { Panel } from '../../_components/panel.js';
import { Time } from '../../_components/time.js';
import { VerdictBadge } from '../../_components/verdict-badge.js';
import { RunScenario } from './run-scenario.js';

export const dynamic = 'force-dynamic';

export default async function LoadTestsPage() {
  const user = await requireUser();
  const [scenarios, runs] = await Promise.all([listScenarios(), listRuns(db(), { limit: 200 }).catch(() => [])]);
  const loadRuns = runs.filter((r) => r.experimentName.startsWith('load-')).slice(0, 20);
  return (
    <>
      <h1>Load tests</h1>
      <AutoRefresh />
      <p className="muted lead">
        A scenario run on its own goes through the runner without faults: live charts, logs, the scenario's k6 thresholds, SLO and consistency report as for any
        run.
      </p>
      <Panel title="Scenarios" note="loadtests/scenarios/*.yaml">
        <DataTable
          testId="scenarios"
          rows={scenarios}
          rowKey={(s) => s.name}
          empty="No scenario file in loadtests/scenarios."
          columns={[
            {
              header: 'Scenario',
              cell: (s) => (
                <>
                  <b>{s.name}</b>
                  <div className="muted">{s.error ? <span className="tone-bad">{s.error}</span> : s.description}</div>
                </>
              ),
            },
            { header: 'Executor', className: 'mono', cell: (s) => s.executor },
            { header: 'Shape', className: 'mono muted', cell: (s) => s.shape },
            {
              header: 'Mix',
              className: 'muted',
              cell: (s) =>
                Object.entries(s.mix)
                  .map(([k, w]) => `${k} ${w}`)
                  .join(' · '),
            },
            {
              header: 'Thresholds',
              className: 'mono muted',
              cell: (s) =>
                Object.entries(s.thresholds).map(([k, v]) => (
                  <div key={k}>
                    {k}: {v.join(', ')}
                  </div>
                )),
            },
            { header: '', cell: (s) => <RunScenario name={s.name} canRun={user.role === 'operator' && !s.error} /> },
          ]}
        />
      </Panel>
      <Panel title="Recent load tests">
        <DataTable
          headless
          rows={loadRuns}
          rowKey={(r) => r.id}
          empty="No load test run yet."
          columns={[
            { header: 'Run', className: 'mono', cell: (r) => <Link href={`/runs/${r.id}`}>{r.id}</Link> },
            { header: 'Scenario', cell: (r) => r.experimentName.replace(/^load-/, '') },
            { header: 'State', cell: (r) => <VerdictBadge state={r.state} /> },
            { header: 'Created', className: 'muted', cell: (r) => <Time at={r.createdAt} /> },
          ]}
        />
      </Panel>
    </>
  );
}
