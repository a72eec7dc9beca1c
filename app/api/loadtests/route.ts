import { z } from 'zod';
import { route } from '../../_lib/route.js';
import { listScenarios, runScenario } from '../../_lib/loadtests.js';

export const dynamic = 'force-dynamic';

export const GET = route({ role: 'viewer' }, async () => ({ scenarios: await listScenarios() }));

const RunLoadTestSchema = z.object({
  scenario: z.string().min(1, 'required').max(80),
  /** Split the load over this many workers (execution segments); absent or 1: one generator. */
  segments: z.number().int('a whole number').min(1, 'at least 1').max(64, 'at most 64').optional(),
});

export const POST = route({ role: 'operator', body: RunLoadTestSchema }, async ({ body }) => runScenario(body.scenario, body.segments));
