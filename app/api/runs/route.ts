import { z } from 'zod';
import { route } from '../../_lib/route.js';
import { db } from '../../_lib/deps.js';
import { listRuns } from '../../_lib/queries.js';
import { startRunOf } from '../../_lib/runs.js';

export const dynamic = 'force-dynamic';

const Query = z.object({ limit: z.coerce.number().int().min(1).max(500).default(50), experiment: z.string().optional() });
const StartBody = z.object({ experimentId: z.string().min(1, 'required') });

export const GET = route({ role: 'viewer', query: Query }, async ({ query }) => ({
  runs: await listRuns(db(), { limit: query.limit, experimentId: query.experiment }),
}));

export const POST = route({ role: 'operator', body: StartBody }, async ({ body, principal }) =>
  startRunOf(body.experimentId, principal.via === 'token' ? 'api' : 'console'),
);
