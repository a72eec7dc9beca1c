import { config, db } from '../../_lib/deps.js';
import { backendStatus } from '../../_lib/status.js';
import { requireUser } from '../../_lib/page-auth.js';
import { usingDefaultUsers } from '../../_lib/auth/users.js';
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
        {down ? <span className="badge b-bad">{down} unreachable</span> : <span className="badge b-ok">all backends reachable</span>}
      </div>
      <section className="panel">
        <header>
          <h2>Backends in use</h2>
          <span className="dim">probed now, 1.5 s timeout each</span>
        </header>
        <table className="t" data-testid="backends">
          <thead>
            <tr>
              <th>Part</th>
              <th>In use</th>
              <th>Where</th>
              <th>State</th>
              <th className="num">Latency</th>
              <th>Detail</th>
            </tr>
          </thead>
          <tbody>
            {backends.map((b) => (
              <tr key={b.key} data-backend={b.key}>
                <td>{b.label}</td>
                <td>{b.kind}</td>
                <td className="mono">{b.target}</td>
                <td>
                  <span className={`dot ${b.reachable ? 'ok' : 'bad'}`} />
                  {b.reachable ? 'reachable' : 'unreachable'}
                </td>
                <td className="num">{b.latencyMs !== undefined ? `${b.latencyMs} ms` : '—'}</td>
                <td className={b.reachable ? 'muted' : ''} style={b.reachable ? undefined : { color: 'var(--bad)' }}>
                  {b.detail}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <div className="grid2">
        <section className="panel">
          <header>
            <h2>Access</h2>
          </header>
          <p className="muted" style={{ margin: 0 }}>
            Signed in as <b>{user.name}</b> ({user.role}). Viewers see everything; operators also run, schedule and halt.
            {usingDefaultUsers() ? (
              <>
                {' '}
                <span style={{ color: 'var(--warn)' }}>
                  The quickstart users (operator/operator, viewer/viewer) are active: set <code>FAULTLINE_USERS</code> to
                  <code> name:role:scrypt-hash</code> entries (hash with <code>npx tsx app/_lib/auth/hash-password.ts &lt;password&gt;</code>).
                </span>
              </>
            ) : (
              ' Users come from FAULTLINE_USERS.'
            )}
          </p>
        </section>
        <section className="panel">
          <header>
            <h2>API tokens (CLI, CI)</h2>
          </header>
          {user.role === 'operator' ? <Tokens /> : <div className="empty">Only operators manage API tokens.</div>}
        </section>
      </div>
    </>
  );
}
