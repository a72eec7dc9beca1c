import { z } from 'zod';
import { route } from '../../../_lib/route.js';
import { deleteTarget, targetDetail, updateTarget } from '../../../_lib/targets.js';

export const dynamic = 'force-dynamic';

const Params = z.object({ id: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,79}$/, 'a target id, e.g. shop') });
const YamlBody = z.object({ yaml: z.string().min(1, 'required').max(200_000) });

export const GET = route({ role: 'viewer', params: Params }, async ({ params }) => targetDetail(params.id));

/** Save an edited version of a target saved in the console (the name stays); an invalid one is 400 and the stored one stays as it was. */
export const PUT = route({ role: 'operator', params: Params, body: YamlBody }, async ({ params, body, principal }) =>
  updateTarget(params.id, body.yaml, principal.name),
);

/** Delete a target saved in the console (409 while a saved experiment names it; a target file is not the console's to delete). */
export const DELETE = route({ role: 'operator', params: Params }, async ({ params }) => deleteTarget(params.id));
