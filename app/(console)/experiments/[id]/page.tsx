import Link from 'next/link';
import { notFound } from 'next/navigation';
import { db } from '../../../_lib/deps.js';
import { getExperiment } from '../../../_lib/experiments.js';
import { listRuns } from '../../../_lib/queries.js';
import { requireUser } from '../../../_lib/page-auth.js';
import { FaultTimeline } from '../../../_components/fault-timeline.js';
import { DataTable } from '../../../_components/data-table.js';
import { Panel } from '../../../_components/panel.js';
import { ErrorBox } from '../../../_components/states.js';
import { Time } from '../../../_components/time.js';
import { Badge, VerdictBadge } from '../../../_components/verdict-badge.js';
import { dur } from '../../../_components/format.js';
import { AppError, toAppError } from '../../../../core/errors.js';
import { ExperimentActions, SourceActions } from './actions.js';

export const dynamic = 'force-dynamic';

export default async function ExperimentPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const user = await requireUser();
  let detail: Awaited<ReturnType<typeof getExperiment>>;
  try {
    detail = await getExperiment(db(), id);
  } catch (e) {
    if (e instanceof AppError && e.code === 'NOT_FOUND') notFound();
    return <ErrorBox error={toAppError(e)} />;
  }
  const e = detail.experiment;
  const runs = await listRuns(db(), { experimentId: id, limit: 20 }).catch(() => []);
  return (
    <>
      <div className="row">
        <h1>{e.name}</h1>
        <Badge tone="dim">{detail.source}</Badge>
        {e.tags.map((t) => (
          <Badge key={t} tone="dim">
            {t}
          </Badge>
        ))}
        <span className="spacer" />
        {user.role === 'operator' && (
          <Link className="btn" href={`/experiments/${id}/edit`}>
            Edit
          </Link>
        )}
      </div>
      <p className="muted lead">{e.description}</p>
      <SourceActions id={id} source={detail.source} editedFrom={detail.editedFrom} canEdit={user.role === 'operator'} />
      <ExperimentActions id={id} canRun={user.role === 'operator'} />
      <Panel title="Fault timeline" note={`load ${e.load.scenario}${e.load.rate ? ` at ${e.load.rate} req/s` : ''}, quiescence ${dur(e.quiescence)}`}>
        <FaultTimeline e={e} />
      </Panel>
      <div className="grid2">
        <Panel title="Hypothesis: SLOs">
          <DataTable
            rows={e.steady_state.slos}
            rowKey={(x) => x.name}
            columns={[
              { header: 'SLO', cell: (x) => x.name },
              { header: 'Route', className: 'mono', cell: (x) => x.route },
              { header: 'SLI', cell: (x) => (x.sli === 'latency' ? `latency < ${x.threshold_ms} ms` : 'availability') },
              { header: 'Objective', num: true, cell: (x) => `${x.objective}%` },
              { header: 'Window', num: true, cell: (x) => dur(x.window) },
            ]}
          />
          <h3 className="gap-top">Breaker expectations</h3>
          <DataTable
            headless
            rows={e.expectations.breakers}
            rowKey={(_, i) => i}
            empty="none"
            columns={[
              { header: 'Breaker', className: 'mono', cell: (b) => b.breaker },
              {
                header: 'Expectation',
                className: 'muted',
                cell: (b) => (
                  <>
                    opens during <b>{b.opens_during}</b>
                    {b.opens_within !== undefined ? ` within ${dur(b.opens_within)}` : ''}, closes within {dur(b.closes_within)} after
                  </>
                ),
              },
            ]}
          />
          <h3 className="gap-top">Invariants after quiescence</h3>
          <div className="muted">{e.expectations.invariants.join(' · ')}</div>
          {e.abort.length > 0 && (
            <>
              <h3 className="gap-top">Abort when</h3>
              {e.abort.map((a, i) => (
                <div key={i} className="muted">
                  {a.kind === 'error_rate'
                    ? `error rate above ${a.above}% for ${dur(a.for)}`
                    : `SLO ${a.slo} burns faster than ${a.above}× over ${dur(a.window)}`}
                </div>
              ))}
            </>
          )}
        </Panel>
        <Panel title="Definition">
          <pre className="yaml" data-testid="yaml">
            {detail.yaml}
          </pre>
        </Panel>
      </div>
      <Panel title="Runs of this experiment">
        <DataTable
          rows={runs}
          rowKey={(r) => r.id}
          empty="Never run."
          columns={[
            { header: 'Run', className: 'mono', cell: (r) => <Link href={`/runs/${r.id}`}>{r.id}</Link> },
            { header: 'State', cell: (r) => <VerdictBadge state={r.state} /> },
            { header: 'Trigger', className: 'muted', cell: (r) => r.trigger },
            { header: 'Started', className: 'muted', cell: (r) => <Time at={r.createdAt} /> },
            { header: 'Reason', className: 'muted', cell: (r) => r.reason ?? '' },
          ]}
        />
      </Panel>
    </>
  );
}
