import { redirect } from 'next/navigation';
import { requireUser } from '../../../_lib/page-auth.js';
import { YamlEditor } from '../../../_components/yaml-editor.js';
import { ErrorBox } from '../../../_components/states.js';
import { NEW_TARGET_TEMPLATE } from '../../../_lib/target-template.js';
import { targetFileCopy } from '../../../_lib/targets.js';
import { toAppError } from '../../../../core/errors.js';

export const dynamic = 'force-dynamic';

/** A new target saved in the console: from the commented template, or (`?from=<id>`) a copy of a target file to edit. */
export default async function NewTargetPage({ searchParams }: { searchParams: Promise<{ from?: string }> }) {
  const user = await requireUser();
  if (user.role !== 'operator') redirect('/targets');
  const { from } = await searchParams;
  let initial = NEW_TARGET_TEMPLATE;
  let error: string | null = null;
  if (from) initial = await targetFileCopy(from).catch((e: unknown) => ((error = toAppError(e).message), NEW_TARGET_TEMPLATE));
  return (
    <>
      <h1>New target</h1>
      <div className="muted">
        {from && !error ? (
          <>
            A copy of the target file <span className="mono">{from}</span>, saved in the console under its own name (the file stays as it is).
          </>
        ) : (
          <>
            Saved in the console&apos;s database; experiments name it by its <span className="mono">name</span> (
            <span className="mono">target: my-service</span>). Each piece is described in docs/targets.md.
          </>
        )}
      </div>
      <ErrorBox error={error} />
      <section className="panel">
        <YamlEditor initial={initial} kind="targets" />
      </section>
    </>
  );
}
