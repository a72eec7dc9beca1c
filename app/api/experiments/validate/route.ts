import { z } from 'zod';
import { route } from '../../../_lib/route.js';
import { db } from '../../../_lib/deps.js';
import { validateExperiment } from '../../../_lib/experiments.js';

const YamlBody = z.object({ yaml: z.string().max(200_000) });

/** Viewers may validate too: it changes nothing. POST because the YAML can be large. */
export const POST = route({ role: 'viewer', body: YamlBody }, async ({ body }) => ({ ok: true, experiment: await validateExperiment(db(), body.yaml) }));
