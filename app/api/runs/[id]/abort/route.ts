import { z } from 'zod';
import { route } from '../../../../_lib/route.js';
import { abortRun } from '../../../../_lib/runs.js';

export const POST = route({ role: 'operator', params: z.object({ id: z.string().min(1).max(64) }) }, async ({ params, principal }) =>
  abortRun(params.id, principal.name),
);
