import { z } from 'zod';
import { route } from '../../../_lib/route.js';
import { targetDetail } from '../../../_lib/targets.js';

export const dynamic = 'force-dynamic';

const Params = z.object({ id: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,79}$/, 'a target id, e.g. shop') });

export const GET = route({ role: 'viewer', params: Params }, async ({ params }) => targetDetail(params.id));
