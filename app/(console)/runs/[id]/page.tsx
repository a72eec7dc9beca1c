import { notFound } from 'next/navigation';
import { requireUser } from '../../../_lib/page-auth.js';
import { runView } from '../../../_lib/runs.js';
import { AppError, toAppError } from '../../../../core/errors.js';
import { ErrorBox } from '../../../_components/states.js';
import { RunView } from './run-view.js';

export const dynamic = 'force-dynamic';

export default async function RunPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const user = await requireUser();
  try {
    const v = await runView(id);
    // Dates cross the server/client boundary as JSON, as the API returns them.
    return <RunView initial={JSON.parse(JSON.stringify(v))} canOperate={user.role === 'operator'} />;
  } catch (e) {
    if (e instanceof AppError && e.code === 'NOT_FOUND') notFound();
    return <ErrorBox error={toAppError(e)} />;
  }
}
