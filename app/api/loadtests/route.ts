import { z } from 'zod';
import { route } from '../../_lib/route.js';
import { listScenarios, runScenario } from '../../_lib/loadtests.js';

export const dynamic = 'force-dynamic';

export const GET = route({ role: 'viewer' }, async () => ({ scenarios: await listScenarios() }));

export const POST = route({ role: 'operator', body: z.object({ scenario: z.string().min(1, 'required').max(80) }) }, async ({ body }) =>
  runScenario(body.scenario),
);
