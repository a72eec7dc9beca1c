import { z } from 'zod';
import { route } from '../../../../_lib/route.js';
import { searchRunLogs } from '../../../../_lib/runs.js';
import { LOG_LEVELS } from '../../../../../workers/logstore/index.js';

export const dynamic = 'force-dynamic';

const Query = z.object({
  service: z.string().min(1).max(40).optional(),
  level: z.enum(LOG_LEVELS).optional(),
  text: z.string().trim().min(1).max(200).optional(),
  cursor: z.string().min(1).max(400).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(200),
});

export const GET = route({ role: 'viewer', params: z.object({ id: z.string().min(1).max(64) }), query: Query }, async ({ params, query }) =>
  searchRunLogs(params.id, query),
);
