import { z } from 'zod';
import { AppError } from '../../../../core/errors.js';
import { route } from '../../../_lib/route.js';
import { db } from '../../../_lib/deps.js';
import { authenticate, configuredUsers } from '../../../_lib/auth/users.js';
import { createSession, sessionCookies } from '../../../_lib/auth/session.js';
import { loginThrottle } from '../../../_lib/auth/login-throttle.js';
import { clientAddress } from '../../../_lib/auth/throttle.js';

const LoginBody = z.object({
  username: z.string().min(1, 'required').max(64),
  password: z.string().min(1, 'required').max(256),
});

export const POST = route({ role: 'public', body: LoginBody, maxBodyBytes: 4096 }, async ({ req, body }) => {
  const address = clientAddress(req.headers);
  const throttle = loginThrottle();
  await throttle.attempt(body.username, address);
  const user = authenticate(configuredUsers(), body.username, body.password);
  if (!user) throw new AppError('UNAUTHORIZED', 'wrong user name or password');
  await throttle.succeed(body.username, address);
  const s = await createSession(db(), user);
  const headers = new Headers({ 'content-type': 'application/json' });
  for (const c of sessionCookies(s, req.url, req.headers)) headers.append('set-cookie', c);
  return new Response(JSON.stringify({ name: user.name, role: user.role }), { status: 200, headers });
});
