import { z } from 'zod';
import { AppError } from '../../../../core/errors.js';
import { route } from '../../../_lib/route.js';
import { db } from '../../../_lib/deps.js';
import { authenticate, configuredUsers } from '../../../_lib/auth/users.js';
import { createSession, sessionCookies } from '../../../_lib/auth/session.js';
import { LoginThrottle } from '../../../_lib/auth/throttle.js';

const g = globalThis as unknown as { __faultlineLoginThrottle?: LoginThrottle };
const throttle = (g.__faultlineLoginThrottle ??= new LoginThrottle());

const LoginBody = z.object({
  username: z.string().min(1, 'required').max(64),
  password: z.string().min(1, 'required').max(256),
});

export const POST = route({ role: 'public', body: LoginBody }, async ({ req, body }) => {
  const wait = throttle.retryAfter(body.username);
  if (wait > 0) throw new AppError('UNAUTHORIZED', `too many failed sign-ins for ${body.username}; try again in ${Math.ceil(wait / 1000)} s`);
  const user = authenticate(configuredUsers(), body.username, body.password);
  if (!user) {
    throttle.fail(body.username);
    throw new AppError('UNAUTHORIZED', 'wrong user name or password');
  }
  throttle.succeed(body.username);
  const s = await createSession(db(), user);
  const headers = new Headers({ 'content-type': 'application/json' });
  for (const c of sessionCookies(s, req.url, req.headers)) headers.append('set-cookie', c);
  return new Response(JSON.stringify({ name: user.name, role: user.role }), { status: 200, headers });
});
