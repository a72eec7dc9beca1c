import { z } from 'zod';
import { route } from '../../_lib/route.js';
import { platform } from '../../_lib/runs.js';
import { engageLever, leverStatus, releaseLever } from '../../../workers/index.js';

export const dynamic = 'force-dynamic';

const EngageBody = z.object({ reason: z.string().trim().min(1, 'give a reason').max(1000) }).strict();
const ReleaseBody = z.object({ reason: z.string().trim().max(1000).optional() }).strict();

/** The safety lever: everyone signed in sees it (the console banner); operators engage and release it. */
export const GET = route({ role: 'viewer' }, async () => leverStatus(platform()));

export const POST = route({ role: 'operator', body: EngageBody }, async ({ body, principal }) =>
  engageLever(platform(), { by: principal.name, reason: body.reason }),
);

export const DELETE = route({ role: 'operator', body: ReleaseBody }, async ({ body, principal }) =>
  releaseLever(platform(), { by: principal.name, reason: body.reason }),
);
