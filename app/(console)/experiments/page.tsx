import Link from 'next/link';
import { db } from '../../_lib/deps.js';
import { listAll } from '../../_lib/experiments.js';
import { requireUser } from '../../_lib/page-auth.js';
import { DataTable } from '../../_components/data-table.js';
import { Panel } from '../../_components/panel.js';
import { ErrorBox } from '../../_components/states.js';
import { Time } from '../../_components/time.js';
import { Badge, VerdictBadge } from '../../_components/verdict-badge.js';
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
      <Panel>
        <ErrorBox error={error} />
        {!error && (
          <DataTable
            testId="experiments"
            rows={list}
            rowKey={(e) => e.id}
            empty="No experiment yet: write one with New experiment, or ship YAML files in experiments/."
            columns={[
              {
                header: 'Name',
                cell: (e) => (
                  <>
                    <Link href={`/experiments/${e.id}`}>{e.name}</Link>
                    <div className="muted wrap-560">{e.description}</div>
                  </>
                ),
              },
              {
                header: 'Faults',
                cell: (e) =>
                  e.faults.map((f) => (
                    <div key={f.name} className="mono muted">
                      <Badge tone="orange">{f.type}</Badge> {f.target}
                    </div>
                  )),
              },
              { header: 'Detects', className: 'muted', cell: (e) => e.detects.join(', ') || '—' },
              { header: 'Source', className: 'muted', cell: (e) => e.source },
              {
                header: 'Last run',
                cell: (e) =>
                  e.lastRun ? (
                    <Link href={`/runs/${e.lastRun.id}`}>
                      <VerdictBadge state={e.lastRun.state} /> <Time className="muted" at={e.lastRun.createdAt} />
                    </Link>
                  ) : (
                    <span className="dim">never run</span>
                  ),
              },
            ]}
          />
        )}
      </Panel>
    </>
  );
}
