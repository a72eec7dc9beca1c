import { z } from 'zod';
import { route } from '../../../_lib/route.js';
import { db } from '../../../_lib/deps.js';
import { getExperiment, saveExperiment } from '../../../_lib/experiments.js';

export const dynamic = 'force-dynamic';

const Params = z.object({ id: z.string().min(1) });
const YamlBody = z.object({ yaml: z.string().min(1, 'required').max(200_000) });

export const GET = route({ role: 'viewer', params: Params }, async ({ params }) => getExperiment(db(), params.id));

export const PUT = route({ role: 'operator', params: Params, body: YamlBody }, async ({ params, body }) => saveExperiment(db(), body.yaml, params.id));
