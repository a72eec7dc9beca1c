import { redirect } from 'next/navigation';
import { requireUser } from '../../../_lib/page-auth.js';
import { YamlEditor } from '../../../_components/yaml-editor.js';
import { targetChoices } from '../../../_lib/targets.js';
import { NEW_EXPERIMENT_TEMPLATE as TEMPLATE } from '../../../_lib/experiment-template.js';

export const dynamic = 'force-dynamic';

export default async function NewExperimentPage() {
  const user = await requireUser();
  if (user.role !== 'operator') redirect('/experiments');
  const targets = await targetChoices();
  return (
    <>
      <h1>New experiment</h1>
      <section className="panel">
        <YamlEditor initial={TEMPLATE} targets={targets} />
      </section>
    </>
  );
}
