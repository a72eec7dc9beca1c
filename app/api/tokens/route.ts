import { z } from 'zod';
import { route } from '../../_lib/route.js';
import { db } from '../../_lib/deps.js';
import { createApiToken, listApiTokens } from '../../_lib/auth/session.js';
import { ROLES } from '../../_lib/auth/users.js';

const CreateToken = z.object({
  name: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits, . _ - (1–64)'),
  role: z.enum(ROLES).default('viewer'),
});

export const GET = route({ role: 'operator' }, async () => ({ tokens: await listApiTokens(db()) }));

/** The token is in this answer only; the database keeps its hash. */
export const POST = route({ role: 'operator', body: CreateToken }, async ({ body, principal }) =>
  createApiToken(db(), { name: body.name, role: body.role, createdBy: principal.name }),
);
