import { z } from 'zod';
import { route } from '../../../_lib/route.js';
import { db } from '../../../_lib/deps.js';
import { deleteExperiment, getExperiment, updateExperiment } from '../../../_lib/experiments.js';

export const dynamic = 'force-dynamic';

const Params = z.object({ id: z.string().min(1).max(80) });
const YamlBody = z.object({ yaml: z.string().min(1, 'required').max(200_000) });

export const GET = route({ role: 'viewer', params: Params }, async ({ params }) => getExperiment(db(), params.id));

/** Save an edited version (of a shipped experiment: an edited copy; the file stays). */
export const PUT = route({ role: 'operator', params: Params, body: YamlBody }, async ({ params, body }) => updateExperiment(db(), body.yaml, params.id));

/** Delete a saved experiment, or drop an edited copy so the shipped file is the experiment again. */
export const DELETE = route({ role: 'operator', params: Params }, async ({ params }) => deleteExperiment(db(), params.id));
