import { requireUser } from '../_lib/page-auth.js';
import { Nav } from '../_components/nav.js';
import { SignOut } from '../_components/signout.js';
import { HaltAll } from '../_components/halt-all.js';
import { usingDefaultUsers } from '../_lib/auth/users.js';

export const dynamic = 'force-dynamic';

export default async function ConsoleLayout({ children }: { children: React.ReactNode }) {
  const user = await requireUser();
  return (
    <div className="shell">
      <aside className="side">
        <div className="brand">
          <span className="logo" /> faultline
        </div>
        <Nav />
        <div className="foot">{usingDefaultUsers() && <div className="tone-warn">quickstart users in use (set FAULTLINE_USERS)</div>}</div>
      </aside>
      <div className="main">
        <div className="topbar">
          <div className="crumbs">shop · embedded stack</div>
          <HaltAll canHalt={user.role === 'operator'} />
          <span className="who" data-testid="who">
            {user.name} <span className={`badge ${user.role === 'operator' ? 'b-orange' : 'b-dim'}`}>{user.role}</span>
          </span>
          <SignOut />
        </div>
        <div className="content">{children}</div>
      </div>
    </div>
  );
}
