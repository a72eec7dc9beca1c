import Link from 'next/link';
import { Panel } from '../_components/panel.js';
import { EmptyState } from '../_components/states.js';

/** 404 inside the console: sidebar and top bar stay, so the way back is one click. */
export default function ConsoleNotFound() {
  return (
    <>
      <h1>Not found</h1>
      <Panel testId="not-found">
        <EmptyState>
          No such page, experiment or run. Back to the <Link href="/">overview</Link>, or see <Link href="/runs">all runs</Link> and{' '}
          <Link href="/experiments">experiments</Link>.
        </EmptyState>
      </Panel>
    </>
  );
}
