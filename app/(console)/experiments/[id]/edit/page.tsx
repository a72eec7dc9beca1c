import { notFound, redirect } from 'next/navigation';
import { requireUser } from '../../../../_lib/page-auth.js';
import { db } from '../../../../_lib/deps.js';
import { getExperiment } from '../../../../_lib/experiments.js';
import { YamlEditor } from '../../../../_components/yaml-editor.js';
import { targetChoices } from '../../../../_lib/targets.js';

export const dynamic = 'force-dynamic';

export default async function EditExperimentPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const user = await requireUser();
  if (user.role !== 'operator') redirect(`/experiments/${id}`);
  const d = await getExperiment(db(), id).catch(() => null);
  if (!d) notFound();
  const targets = await targetChoices();
  return (
    <>
      <h1>Edit {id}</h1>
      {d.source === 'shipped' && <div className="muted">Shipped file: saving stores your version in the platform database; the file stays as is.</div>}
      <section className="panel">
        <YamlEditor initial={d.yaml} id={id} targets={targets} />
      </section>
    </>
  );
}
