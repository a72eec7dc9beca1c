import { notFound, redirect } from 'next/navigation';
import { requireUser } from '../../../../_lib/page-auth.js';
import { savedTargetText } from '../../../../_lib/targets.js';
import { YamlEditor } from '../../../../_components/yaml-editor.js';
import { AppError } from '../../../../../core/errors.js';

export const dynamic = 'force-dynamic';

/** Edit a target saved in the console; a target file is edited as a file (its page offers a copy to save instead). */
export default async function EditTargetPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const user = await requireUser();
  if (user.role !== 'operator') redirect(`/targets/${id}`);
  let d: Awaited<ReturnType<typeof savedTargetText>>;
  try {
    d = await savedTargetText(id);
  } catch (e) {
    if (e instanceof AppError && e.code === 'CONFLICT') redirect(`/targets/${id}`);
    if (e instanceof AppError && e.code === 'NOT_FOUND') notFound();
    throw e;
  }
  return (
    <>
      <h1>Edit {id}</h1>
      <div className="muted">Saved in the console, last by {d.updatedBy}. The name stays: experiments name the target by it.</div>
      <section className="panel">
        <YamlEditor initial={d.yaml} id={id} kind="targets" />
      </section>
    </>
  );
}
