import { z } from 'zod';
import { route } from '../../../../_lib/route.js';
import { checkTarget } from '../../../../_lib/targets.js';

export const dynamic = 'force-dynamic';

const Params = z.object({ id: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,79}$/, 'a target id, e.g. shop') });

/** `faultline target check` from the console: reaches out to every piece the file names (changes nothing), so operators only. */
export const POST = route({ role: 'operator', params: Params }, async ({ params }) => checkTarget(params.id));
