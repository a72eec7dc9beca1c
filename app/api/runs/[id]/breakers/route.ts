import { z } from 'zod';
import { route } from '../../../../_lib/route.js';
import { runBreakers } from '../../../../_lib/runs.js';

export const dynamic = 'force-dynamic';

export const GET = route({ role: 'viewer', params: z.object({ id: z.string().min(1).max(64) }) }, async ({ params }) => runBreakers(params.id));
