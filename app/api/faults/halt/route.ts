import { z } from 'zod';
import { route } from '../../../_lib/route.js';
import { platform } from '../../../_lib/runs.js';
import { engageLever } from '../../../../workers/index.js';

const HaltBody = z.object({ reason: z.string().trim().min(1).max(1000).default('halt all from the console') }).strict();

/** Operators only: engage the safety lever (every fault removed, every run aborted, new ones refused until released at /api/safety). */
export const POST = route({ role: 'operator', body: HaltBody }, async ({ body, principal }) =>
  engageLever(platform(), { by: principal.name, reason: body.reason }),
);
