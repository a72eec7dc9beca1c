import { z } from 'zod';
import { route } from '../../_lib/route.js';
import { createTarget, targetsList } from '../../_lib/targets.js';

export const dynamic = 'force-dynamic';

const YamlBody = z.object({ yaml: z.string().min(1, 'required').max(200_000) });

/** Every target file (targets/, examples/) and every target saved in the console, with the experiments that name each; one that does not validate carries its error. */
export const GET = route({ role: 'viewer' }, async () => ({ targets: await targetsList() }));

/** Save a new target in the console: 400 with each field and line when the YAML does not validate, 409 when its name is taken. */
export const POST = route({ role: 'operator', body: YamlBody }, async ({ body, principal }) => createTarget(body.yaml, principal.name));
