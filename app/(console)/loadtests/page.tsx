import Link from 'next/link';
import { requireUser } from '../../_lib/page-auth.js';
import { listScenarios } from '../../_lib/loadtests.js';
import { listRuns } from '../../_lib/queries.js';
import { db } from '../../_lib/deps.js';
import { AutoRefresh } from '../../_components/auto-refresh.js';
import { Empty } from '../../_components/states.js';
import { ago, verdictClass } from '../../_components/format.js';
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
      <p className="muted" style={{ margin: 0 }}>
        A scenario run on its own goes through the runner without faults: live charts, logs, SLO and consistency report as for any run.
      </p>
      <section className="panel">
        <header>
          <h2>Scenarios</h2>
          <span className="dim">loadtests/scenarios/*.yaml</span>
        </header>
        {scenarios.length === 0 ? (
          <Empty>No scenario file in loadtests/scenarios.</Empty>
        ) : (
          <table className="t" data-testid="scenarios">
            <thead>
              <tr>
                <th>Scenario</th>
                <th>Executor</th>
                <th>Shape</th>
                <th>Mix</th>
                <th>Thresholds</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {scenarios.map((s) => (
                <tr key={s.name}>
                  <td>
                    <b>{s.name}</b>
                    <div className="muted">{s.error ? <span style={{ color: 'var(--bad)' }}>{s.error}</span> : s.description}</div>
                  </td>
                  <td className="mono">{s.executor}</td>
                  <td className="mono muted">{s.shape}</td>
                  <td className="muted">
                    {Object.entries(s.mix)
                      .map(([k, w]) => `${k} ${w}`)
                      .join(' · ')}
                  </td>
                  <td className="mono muted">
                    {Object.entries(s.thresholds).map(([k, v]) => (
                      <div key={k}>
                        {k}: {v.join(', ')}
                      </div>
                    ))}
                  </td>
                  <td>
                    <RunScenario name={s.name} canRun={user.role === 'operator' && !s.error} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <section className="panel">
        <header>
          <h2>Recent load tests</h2>
        </header>
        {loadRuns.length === 0 ? (
          <Empty>No load test run yet.</Empty>
        ) : (
          <table className="t">
            <tbody>
              {loadRuns.map((r) => (
                <tr key={r.id}>
                  <td className="mono">
                    <Link href={`/runs/${r.id}`}>{r.id}</Link>
                  </td>
                  <td>{r.experimentName.replace(/^load-/, '')}</td>
                  <td>
                    <span className={`badge ${verdictClass(r.state)}`}>{r.state}</span>
                  </td>
                  <td className="muted">{ago(r.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </>
  );
}
