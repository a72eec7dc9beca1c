import { z } from 'zod';
import { route } from '../../../_lib/route.js';
import { db } from '../../../_lib/deps.js';
import { revokeApiToken } from '../../../_lib/auth/session.js';

export const DELETE = route({ role: 'operator', params: z.object({ id: z.string().regex(/^[0-9a-f]{16}$/, 'token id') }) }, async ({ params }) => {
  await revokeApiToken(db(), params.id);
  return { ok: true };
});
