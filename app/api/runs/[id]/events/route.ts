import { z } from 'zod';
import { route } from '../../../../_lib/route.js';
import { runEventStream } from '../../../../_lib/runs.js';
import { getRun } from '../../../../_lib/queries.js';
import { db } from '../../../../_lib/deps.js';

export const dynamic = 'force-dynamic';

const Query = z.object({ after: z.coerce.number().int().min(-1).default(0) });

/** Server-Sent Events; EventSource resumes with Last-Event-ID after a drop. */
export const GET = route({ role: 'viewer', params: z.object({ id: z.string().min(1).max(64) }), query: Query }, async ({ req, params, query }) => {
  await getRun(db(), params.id);
  const lastId = Number(req.headers.get('last-event-id'));
  const after = Number.isInteger(lastId) && lastId > 0 ? lastId : query.after;
  return new Response(runEventStream(params.id, after, req.signal), {
    headers: {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    },
  });
});
