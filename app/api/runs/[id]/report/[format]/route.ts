import { z } from 'zod';
import { route } from '../../../../../_lib/route.js';
import { reportFile, REPORT_FORMATS, type TReportFormat } from '../../../../../_lib/runs.js';

export const dynamic = 'force-dynamic';

const Params = z.object({ id: z.string().min(1).max(64), format: z.enum(Object.keys(REPORT_FORMATS) as [TReportFormat, ...TReportFormat[]]) });

export const GET = route({ role: 'viewer', params: Params }, async ({ params }) => {
  const f = await reportFile(params.id, params.format);
  return new Response(f.body, { headers: { 'content-type': f.type, 'content-disposition': `attachment; filename="${f.name}"` } });
});
