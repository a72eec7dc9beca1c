import Link from 'next/link';
import { notFound } from 'next/navigation';
import { db } from '../../../_lib/deps.js';
import { getExperiment } from '../../../_lib/experiments.js';
import { listRuns } from '../../../_lib/queries.js';
import { requireUser } from '../../../_lib/page-auth.js';
import { FaultTimeline } from '../../../_components/fault-timeline.js';
import { Empty, ErrorBox } from '../../../_components/states.js';
import { ago, dur, verdictClass } from '../../../_components/format.js';
import { AppError, toAppError } from '../../../../core/errors.js';
import { ExperimentActions } from './actions.js';

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
        <span className="badge b-dim">{detail.source}</span>
        {e.tags.map((t) => (
          <span key={t} className="badge b-dim">
            {t}
          </span>
        ))}
        <span className="spacer" />
        {user.role === 'operator' && (
          <Link className="btn" href={`/experiments/${id}/edit`}>
            Edit
          </Link>
        )}
      </div>
      <p className="muted" style={{ margin: 0 }}>
        {e.description}
      </p>
      <ExperimentActions id={id} canRun={user.role === 'operator'} />
      <section className="panel">
        <header>
          <h2>Fault timeline</h2>
          <span className="dim">
            load {e.load.scenario}
            {e.load.rate ? ` at ${e.load.rate} req/s` : ''}, quiescence {dur(e.quiescence)}
          </span>
        </header>
        <FaultTimeline e={e} />
      </section>
      <div className="grid2">
        <section className="panel">
          <header>
            <h2>Hypothesis: SLOs</h2>
          </header>
          <table className="t">
            <thead>
              <tr>
                <th>SLO</th>
                <th>Route</th>
                <th>SLI</th>
                <th className="num">Objective</th>
                <th className="num">Window</th>
              </tr>
            </thead>
            <tbody>
              {e.steady_state.slos.map((s) => (
                <tr key={s.name}>
                  <td>{s.name}</td>
                  <td className="mono">{s.route}</td>
                  <td>{s.sli === 'latency' ? `latency < ${s.threshold_ms} ms` : 'availability'}</td>
                  <td className="num">{s.objective}%</td>
                  <td className="num">{dur(s.window)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <h3 style={{ marginTop: 12 }}>Breaker expectations</h3>
          {e.expectations.breakers.length === 0 ? (
            <div className="dim">none</div>
          ) : (
            <table className="t">
              <tbody>
                {e.expectations.breakers.map((b, i) => (
                  <tr key={i}>
                    <td className="mono">{b.breaker}</td>
                    <td className="muted">
                      opens during <b>{b.opens_during}</b>
                      {b.opens_within !== undefined ? ` within ${dur(b.opens_within)}` : ''}, closes within {dur(b.closes_within)} after
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <h3 style={{ marginTop: 12 }}>Invariants after quiescence</h3>
          <div className="muted">{e.expectations.invariants.join(' · ')}</div>
          {e.abort.length > 0 && (
            <>
              <h3 style={{ marginTop: 12 }}>Abort when</h3>
              {e.abort.map((a, i) => (
                <div key={i} className="muted">
                  {a.kind === 'error_rate' ? `error rate above ${a.above}% for ${dur(a.for)}` : `SLO ${a.slo} burns faster than ${a.above}× over ${dur(a.window)}`}
                </div>
              ))}
            </>
          )}
        </section>
        <section className="panel">
          <header>
            <h2>Definition</h2>
          </header>
          <pre className="yaml" data-testid="yaml">
            {detail.yaml}
          </pre>
        </section>
      </div>
      <section className="panel">
        <header>
          <h2>Runs of this experiment</h2>
        </header>
        {runs.length === 0 ? (
          <Empty>Never run.</Empty>
        ) : (
          <table className="t">
            <thead>
              <tr>
                <th>Run</th>
                <th>State</th>
                <th>Trigger</th>
                <th>Started</th>
                <th>Reason</th>
              </tr>
            </thead>
            <tbody>
              {runs.map((r) => (
                <tr key={r.id}>
                  <td className="mono">
                    <Link href={`/runs/${r.id}`}>{r.id}</Link>
                  </td>
                  <td>
                    <span className={`badge ${verdictClass(r.state)}`}>{r.state}</span>
                  </td>
                  <td className="muted">{r.trigger}</td>
                  <td className="muted">{ago(r.createdAt)}</td>
                  <td className="muted">{r.reason ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </>
  );
}
