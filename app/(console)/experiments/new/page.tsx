import { redirect } from 'next/navigation';
import { requireUser } from '../../../_lib/page-auth.js';
import { YamlEditor } from '../../../_components/yaml-editor.js';
import { targetChoices } from '../../../_lib/targets.js';

export const dynamic = 'force-dynamic';

const TEMPLATE = `name: my-experiment
description: What should hold while the fault is on, and why.
target: shop
load:
  scenario: checkout-mix
  rate: 20
  duration: 40s
steady_state:
  slos:
    - name: checkout-availability
      route: POST /checkout
      sli: availability
      objective: 99
faults:
  - name: payments-slow
    at: 10s
    duration: 15s
    fault:
      type: latency
      target: orders->payments
      params:
        latencyMs: 500
quiescence: 10s
`;

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
