import Link from 'next/link';
import { targetsList, type TTargetView } from '../../_lib/targets.js';
import { requireUser } from '../../_lib/page-auth.js';
import { DataTable } from '../../_components/data-table.js';
import { Panel } from '../../_components/panel.js';
import { ErrorBox } from '../../_components/states.js';
import { Badge } from '../../_components/verdict-badge.js';
import { Time } from '../../_components/time.js';
import { toAppError } from '../../../core/errors.js';
import { ExperimentLinks } from './experiment-links.js';

export const dynamic = 'force-dynamic';

const none = <span className="dim">—</span>;

function edges(t: NonNullable<TTargetView['target']>) {
  if (!t.edges) return none;
  if (t.edges.source === 'supervisor') return <span className="muted">listed by the supervisor</span>;
  return t.edges.proxies.map((p) => (
    <div key={p.name} className="mono nowrap">
      {p.name}
    </div>
  ));
}

function processes(t: NonNullable<TTargetView['target']>) {
  const p = t.processes;
  if (!p) return none;
  return (
    <>
      <Badge tone="dim">{p.kind}</Badge>
      {p.instances.length > 0 && <div className="mono muted">{p.instances.join(', ')}</div>}
    </>
  );
}

/** Where a target lives: its file's path, or who saved it in the console and when. */
function where(t: TTargetView) {
  if (!t.saved) return <div className="mono dim">{t.path}</div>;
  return (
    <div className="dim" data-testid="saved-by">
      saved in the console by {t.saved.updatedBy}, <Time at={t.saved.updatedAt} relative />
    </div>
  );
}

export default async function TargetsPage() {
  const user = await requireUser();
  let list: TTargetView[] = [];
  let error: string | null = null;
  try {
    list = await targetsList();
  } catch (e) {
    error = toAppError(e).message;
  }
  return (
    <>
      <div className="row">
        <h1>Targets</h1>
        <span className="spacer" />
        <span className="muted">
          target files in <span className="mono">targets/</span> and <span className="mono">examples/*/target.yaml</span>, and targets saved here
        </span>
        {user.role === 'operator' && (
          <Link className="btn primary" href="/targets/new" data-testid="new-target">
            New target
          </Link>
        )}
      </div>
      <Panel>
        <ErrorBox error={error} />
        {!error && (
          <DataTable
            testId="targets"
            rows={list}
            rowKey={(t) => t.id}
            rowProps={(t) => ({ 'data-target': t.id })}
            empty="No target: write targets/<name>.yaml (docs/targets.md), or save one here (New target)."
            columns={[
              {
                header: 'Target',
                cell: (t) => (
                  <>
                    <Link href={`/targets/${t.id}`}>{t.target?.name ?? t.id}</Link> {t.saved && <Badge tone="dim">saved</Badge>}{' '}
                    {!t.valid && <Badge tone="bad">invalid</Badge>}
                    {where(t)}
                    {t.target && <div className="muted wrap-420">{t.target.description}</div>}
                    {t.error && <ErrorBox error={t.error} />}
                  </>
                ),
              },
              { header: 'Entry', className: 'mono', cell: (t) => t.target?.entry.url ?? none },
              { header: 'Edges', cell: (t) => (t.target ? edges(t.target) : none) },
              { header: 'Processes', cell: (t) => (t.target ? processes(t.target) : none) },
              {
                header: 'Invariants',
                cell: (t) =>
                  t.target?.invariants.length
                    ? t.target.invariants.map((i) => (
                        <div key={i.name} className="mono nowrap">
                          {i.name}
                        </div>
                      ))
                    : none,
              },
              { header: 'Experiments', cell: (t) => <ExperimentLinks experiments={t.experiments} /> },
            ]}
          />
        )}
      </Panel>
    </>
  );
}
