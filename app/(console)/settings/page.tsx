import { config, db } from '../../_lib/deps.js';
import { backendStatus } from '../../_lib/status.js';
import { requireUser } from '../../_lib/page-auth.js';
import { usingDefaultUsers } from '../../_lib/auth/users.js';
import { DataTable } from '../../_components/data-table.js';
import { Panel } from '../../_components/panel.js';
import { EmptyState } from '../../_components/states.js';
import { Badge } from '../../_components/verdict-badge.js';
import { Tokens } from './tokens.js';

export const dynamic = 'force-dynamic';

export default async function SettingsPage() {
  const user = await requireUser();
  const backends = await backendStatus(config(), db());
  const down = backends.filter((b) => !b.reachable).length;
  return (
    <>
      <div className="row">
        <h1>Settings / status</h1>
        <span className="spacer" />
        {down ? <Badge tone="bad">{down} unreachable</Badge> : <Badge tone="ok">all backends reachable</Badge>}
      </div>
      <Panel title="Backends in use" note="probed now, 1.5 s timeout each">
        <DataTable
          testId="backends"
          rows={backends}
          rowKey={(b) => b.key}
          rowProps={(b) => ({ 'data-backend': b.key })}
          columns={[
            { header: 'Part', cell: (b) => b.label },
            { header: 'In use', cell: (b) => b.kind },
            { header: 'Where', className: 'mono', cell: (b) => b.target },
            {
              header: 'State',
              cell: (b) => (
                <>
                  <span className={`dot ${b.reachable ? 'ok' : 'bad'}`} />
                  {b.reachable ? 'reachable' : 'unreachable'}
                </>
              ),
            },
            { header: 'Latency', num: true, cell: (b) => (b.latencyMs !== undefined ? `${b.latencyMs} ms` : '—') },
            { header: 'Detail', cell: (b) => <span className={b.reachable ? 'muted' : 'tone-bad'}>{b.detail}</span> },
          ]}
        />
      </Panel>
      <div className="grid2">
        <Panel title="Access">
          <p className="muted lead">
            Signed in as <b>{user.name}</b> ({user.role}). Viewers see everything; operators also run, schedule and halt.
            {usingDefaultUsers() ? (
              <>
                {' '}
                <span className="tone-warn">
                  The quickstart users (operator/operator, viewer/viewer) are active: set <code>FAULTLINE_USERS</code> to
                  <code> name:role:scrypt-hash</code> entries (hash with <code>npx tsx app/_lib/auth/hash-password.ts &lt;password&gt;</code>).
                </span>
              </>
            ) : (
              ' Users come from FAULTLINE_USERS.'
            )}
          </p>
        </Panel>
        <Panel title="API tokens (CLI, CI)">{user.role === 'operator' ? <Tokens /> : <EmptyState>Only operators manage API tokens.</EmptyState>}</Panel>
      </div>
    </>
  );
}
