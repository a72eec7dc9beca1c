import Link from 'next/link';
import { db } from '../../_lib/deps.js';
import { listRuns } from '../../_lib/queries.js';
import { requireUser } from '../../_lib/page-auth.js';
import { AutoRefresh } from '../../_components/auto-refresh.js';
import { Empty, ErrorBox } from '../../_components/states.js';
import { ago, dur, verdictClass } from '../../_components/format.js';
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
      <section className="panel">
        <ErrorBox error={error} />
        {!error && runs.length === 0 ? (
          <Empty>
            No runs yet. Start one from <Link href="/experiments">Experiments</Link> or with <code>faultline run</code>.
          </Empty>
        ) : (
          <table className="t" data-testid="runs">
            <thead>
              <tr>
                <th>Run</th>
                <th>Experiment</th>
                <th>State</th>
                <th>Trigger</th>
                <th>Created</th>
                <th className="num">Duration</th>
                <th>Reason</th>
              </tr>
            </thead>
            <tbody>
              {runs.map((r) => (
                <tr key={r.id}>
                  <td className="mono">
                    <Link href={`/runs/${r.id}`}>{r.id}</Link>
                  </td>
                  <td>{r.experimentName}</td>
                  <td>
                    <span className={`badge ${verdictClass(r.state)}`}>{r.state}</span>
                  </td>
                  <td className="muted">{r.trigger}</td>
                  <td className="muted">{ago(r.createdAt)}</td>
                  <td className="num">{r.endedAt ? dur(r.endedAt.getTime() - r.createdAt.getTime()) : '—'}</td>
                  <td className="muted" style={{ maxWidth: 420 }}>
                    {r.reason ?? ''}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </>
  );
}
