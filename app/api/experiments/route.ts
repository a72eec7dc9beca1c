import { z } from 'zod';
import { route } from '../../_lib/route.js';
import { db } from '../../_lib/deps.js';
import { createExperiment, listAll } from '../../_lib/experiments.js';

export const dynamic = 'force-dynamic';

const YamlBody = z.object({ yaml: z.string().min(1, 'required').max(200_000) });

export const GET = route({ role: 'viewer' }, async () => ({ experiments: await listAll(db()) }));

/** Create; a name already taken is 409 (editing is PUT /api/experiments/<id>). */
export const POST = route({ role: 'operator', body: YamlBody }, async ({ body }) => createExperiment(db(), body.yaml));
