import Link from 'next/link';
import { db } from '../../_lib/deps.js';
import { listAll } from '../../_lib/experiments.js';
import { requireUser } from '../../_lib/page-auth.js';
import { Empty, ErrorBox } from '../../_components/states.js';
import { ago, verdictClass } from '../../_components/format.js';
import { toAppError } from '../../../core/errors.js';

export const dynamic = 'force-dynamic';

export default async function ExperimentsPage() {
  const user = await requireUser();
  let list: Awaited<ReturnType<typeof listAll>> = [];
  let error: string | null = null;
  try {
    list = await listAll(db());
  } catch (e) {
    error = toAppError(e).message;
  }
  return (
    <>
      <div className="row">
        <h1>Experiments</h1>
        <span className="spacer" />
        {user.role === 'operator' && (
          <Link className="btn primary" href="/experiments/new">
            New experiment
          </Link>
        )}
      </div>
      <section className="panel">
        <ErrorBox error={error} />
        {!error && list.length === 0 ? (
          <Empty>No experiment yet: write one with New experiment, or ship YAML files in experiments/.</Empty>
        ) : (
          <table className="t" data-testid="experiments">
            <thead>
              <tr>
                <th>Name</th>
                <th>Faults</th>
                <th>Detects</th>
                <th>Source</th>
                <th>Last run</th>
              </tr>
            </thead>
            <tbody>
              {list.map((e) => (
                <tr key={e.id}>
                  <td>
                    <Link href={`/experiments/${e.id}`}>{e.name}</Link>
                    <div className="muted" style={{ maxWidth: 560 }}>
                      {e.description}
                    </div>
                  </td>
                  <td>
                    {e.faults.map((f) => (
                      <div key={f.name} className="mono muted">
                        <span className="badge b-orange">{f.type}</span> {f.target}
                      </div>
                    ))}
                  </td>
                  <td className="muted">{e.detects.join(', ') || '—'}</td>
                  <td className="muted">{e.source}</td>
                  <td>
                    {e.lastRun ? (
                      <Link href={`/runs/${e.lastRun.id}`}>
                        <span className={`badge ${verdictClass(e.lastRun.state)}`}>{e.lastRun.state}</span> <span className="muted">{ago(e.lastRun.createdAt)}</span>
                      </Link>
                    ) : (
                      <span className="dim">never run</span>
                    )}
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
