/** Server components: who is signed in, or off to /login. */
import { cookies } from 'next/headers';
import { redirect } from 'next/navigation';
import { db } from './deps.js';
import { resolveSession, SESSION_COOKIE, type TPrincipal } from './auth/session.js';

export async function currentUser(): Promise<TPrincipal | null> {
  const secret = (await cookies()).get(SESSION_COOKIE)?.value;
  if (!secret) return null;
  try {
    return await resolveSession(db(), secret);
  } catch {
    // Database down: treat as signed out; the login page shows the error on submit.
    return null;
  }
}

export async function requireUser(): Promise<TPrincipal> {
  const u = await currentUser();
  if (!u) redirect('/login');
  return u;
}
