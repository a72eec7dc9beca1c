import Link from 'next/link';
import { notFound } from 'next/navigation';
import { targetDetail, type TTargetView } from '../../../_lib/targets.js';
import type { TTopoEdge } from '../../../_lib/topology-layout.js';
import { TopologyGraph } from '../../../_components/topology-graph.js';
import { requireUser } from '../../../_lib/page-auth.js';
import { DataTable } from '../../../_components/data-table.js';
import { Panel } from '../../../_components/panel.js';
import { EmptyState, ErrorBox } from '../../../_components/states.js';
import { Badge } from '../../../_components/verdict-badge.js';
import { dur } from '../../../_components/format.js';
import { AppError, toAppError } from '../../../../core/errors.js';
import { ExperimentLinks } from '../experiment-links.js';
import { Time } from '../../../_components/time.js';
import { CheckTarget } from './check.js';
import { DeleteTarget } from './saved-actions.js';

export const dynamic = 'force-dynamic';

type TTarget = NonNullable<TTargetView['target']>;

/** Key/value rows of a panel. */
function Facts({ rows }: { rows: [string, React.ReactNode][] }) {
  return (
    <DataTable
      headless
      rows={rows}
      rowKey={(r) => r[0]}
      columns={[
        { header: '', className: 'muted nowrap', cell: (r) => r[0] },
        { header: '', cell: (r) => r[1] },
      ]}
    />
  );
}

const mono = (s: React.ReactNode) => <span className="mono">{s}</span>;

/** The edges to draw: the listed proxies, or what the supervisor lists now. */
function drawnEdges(t: TTarget, live: TTopoEdge[] | null | undefined): TTopoEdge[] {
  return t.edges?.source === 'listed' ? t.edges.graph : (live ?? []);
}

function Pieces({ t, liveEdges }: { t: TTarget; liveEdges?: TTopoEdge[] | null }) {
  const drawn = drawnEdges(t, liveEdges);
  return (
    <>
      {t.edges && (
        <Panel title="Topology" note={t.edges.source === 'listed' ? 'the listed proxies' : 'as the supervisor lists them now'} testId="target-topology">
          {drawn.length > 0 ? (
            <TopologyGraph edges={drawn} testId="topology-graph" />
          ) : (
            <EmptyState>The supervisor at {t.processes?.url ?? 'its URL'} does not answer: start the system to see its edges.</EmptyState>
          )}
        </Panel>
      )}
      <div className="grid2">
        <Panel title="Entry and edges" testId="target-edges">
          <Facts
            rows={[
              ['entry', mono(`${t.entry.url} (health ${t.entry.health})`)],
              ...(t.entry.setup.length ? [['setup', mono(t.entry.setup.join(', '))] as [string, React.ReactNode]] : []),
              ['toxiproxy', t.edges ? mono(t.edges.toxiproxy) : <span className="dim">no edges: no network faults</span>],
            ]}
          />
          {t.edges?.source === 'supervisor' && (
            <EmptyState>
              {liveEdges?.length
                ? 'Edges are the proxies the supervisor lists: drawn above as it lists them now.'
                : 'Edges are the proxies the supervisor lists when the system is up.'}
            </EmptyState>
          )}
          {t.edges && t.edges.proxies.length > 0 && (
            <DataTable
              rows={t.edges.proxies}
              rowKey={(p) => p.name}
              columns={[
                { header: 'Edge', className: 'mono', cell: (p) => p.name },
                { header: 'Kind', cell: (p) => <Badge tone="dim">{p.kind}</Badge> },
                { header: 'Proxy', className: 'mono muted', cell: (p) => (p.listen ? `${p.listen} → ${p.upstream}` : 'exists on the server') },
              ]}
            />
          )}
        </Panel>
        <Panel title="Processes, metrics, logs" testId="target-processes">
          <Facts
            rows={[
              [
                'processes',
                t.processes ? (
                  <>
                    <Badge tone="dim">{t.processes.kind}</Badge> {t.processes.url ? mono(t.processes.url) : mono(t.processes.instances.join(', '))}
                  </>
                ) : (
                  <span className="dim">none: no process faults</span>
                ),
              ],
              ...(t.processes?.commands ?? []).map((c): [string, React.ReactNode] => [`${c.verb} command`, mono(c.command)]),
              ['metrics', t.metrics ? t.metrics.sources.map((s) => <div key={s}>{mono(s)}</div>) : <span className="dim">none</span>],
              ...(t.metrics?.histogram ? [['requests', mono(t.metrics.histogram)] as [string, React.ReactNode]] : []),
              ...(t.metrics?.breakers ? [['breakers', t.metrics.breakers] as [string, React.ReactNode]] : []),
              ['logs', t.logs ? mono(`${t.logs.kind}: ${t.logs.where} (id ${t.logs.idField})`) : <span className="dim">none</span>],
              ['databases', t.databases.length ? mono(t.databases.map((d) => `${d.name} ($${d.urlEnv})`).join(', ')) : <span className="dim">none</span>],
            ]}
          />
        </Panel>
      </div>
      <Panel title="Invariants" note="read-only SQL returning the offending rows, run after the system settled" testId="target-invariants">
        <DataTable
          rows={t.invariants}
          rowKey={(i) => i.name}
          empty="No invariant: runs judge SLOs only."
          columns={[
            { header: 'Invariant', className: 'mono nowrap', cell: (i) => i.name },
            { header: 'Database', className: 'mono', cell: (i) => i.database },
            { header: 'What must hold', className: 'muted', cell: (i) => i.description },
          ]}
        />
        {(t.acknowledged.length > 0 || t.settled) && <h3 className="gap-top">Acknowledged writes and settling</h3>}
        {(t.acknowledged.length > 0 || t.settled) && (
          <Facts
            rows={[
              ...t.acknowledged.map((a, k): [string, React.ReactNode] => [
                k === 0 ? 'acknowledged' : '',
                mono(`${a.route} ${a.status.join('|')} → ${a.id}, confirmed by ${a.confirm}`),
              ]),
              ...(t.settled ? [['settled', mono(`SQL on ${t.settled.database}, at most ${dur(t.settled.maxMs)}`)] as [string, React.ReactNode]] : []),
            ]}
          />
        )}
      </Panel>
    </>
  );
}

export default async function TargetPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const user = await requireUser();
  let d: Awaited<ReturnType<typeof targetDetail>>;
  try {
    d = await targetDetail(id);
  } catch (e) {
    if (e instanceof AppError && e.code === 'NOT_FOUND') notFound();
    return <ErrorBox error={toAppError(e)} />;
  }
  return (
    <>
      <div className="row">
        <h1>{d.target?.name ?? d.id}</h1>
        {d.saved ? (
          <>
            <Badge tone="dim">saved</Badge>
            <span className="dim" data-testid="saved-by">
              saved in the console by {d.saved.updatedBy}, <Time at={d.saved.updatedAt} relative />
            </span>
          </>
        ) : (
          <span className="mono dim">{d.path}</span>
        )}
        {!d.valid && <Badge tone="bad">invalid</Badge>}
        <span className="spacer" />
        {user.role === 'operator' &&
          (d.saved ? (
            <>
              <Link className="btn" href={`/targets/${d.id}/edit`} data-testid="edit-target">
                Edit
              </Link>
              <DeleteTarget id={d.id} />
            </>
          ) : (
            <Link
              className="btn"
              href={`/targets/new?from=${encodeURIComponent(d.id)}`}
              data-testid="copy-target"
              title="Save an edited copy in the console; the file stays"
            >
              New target from this file
            </Link>
          ))}
      </div>
      {d.target && <p className="muted lead">{d.target.description}</p>}
      {d.error && (
        <Panel title={d.saved ? 'The saved target does not validate (edit it to fix)' : 'The file does not validate'} testId="target-error">
          <ErrorBox error={d.error} />
        </Panel>
      )}
      <CheckTarget id={d.id} canCheck={user.role === 'operator'} />
      {d.target && <Pieces t={d.target} liveEdges={d.liveEdges} />}
      <Panel title="Experiments naming this target" testId="target-experiments">
        <ExperimentLinks experiments={d.experiments} showPath />
      </Panel>
    </>
  );
}
