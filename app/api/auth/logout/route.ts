import { route } from '../../../_lib/route.js';
import { db } from '../../../_lib/deps.js';
import { clearedCookies, deleteSession, parseCookies, SESSION_COOKIE } from '../../../_lib/auth/session.js';

export const POST = route({ role: 'viewer' }, async ({ req }) => {
  await deleteSession(db(), parseCookies(req.headers.get('cookie'))[SESSION_COOKIE] ?? '');
  const headers = new Headers({ 'content-type': 'application/json' });
  for (const c of clearedCookies(req.url, req.headers)) headers.append('set-cookie', c);
  return new Response(JSON.stringify({ ok: true }), { status: 200, headers });
});
