import { z } from 'zod';
import { route } from '../../../_lib/route.js';
import { validateTarget } from '../../../_lib/targets.js';

export const dynamic = 'force-dynamic';

const YamlBody = z.object({ yaml: z.string().max(200_000) });

/** The target editor's live check; viewers may validate too: it changes nothing. POST because the YAML can be large. */
export const POST = route({ role: 'viewer', body: YamlBody }, async ({ body }) => ({ ok: true, name: (await validateTarget(body.yaml)).name }));
