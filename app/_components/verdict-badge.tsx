/** Badges: one colour language for states and verdicts on every page. */
import { verdictClass } from './format.js';

export type TTone = 'ok' | 'bad' | 'warn' | 'run' | 'dim' | 'orange';

export function Badge({ tone, title, children }: { tone: TTone; title?: string; children: React.ReactNode }) {
  return (
    <span className={`badge b-${tone}`} title={title}>
      {children}
    </span>
  );
}

/** A run state or verdict (`passed`, `running`, `aborted` ...). */
export function VerdictBadge({ state, testId }: { state: string; testId?: string }) {
  return (
    <span className={`badge ${verdictClass(state)}`} data-testid={testId}>
      {state}
    </span>
  );
}

/** A check's outcome: green `yes` or red `no` (pass/fail, holds/violated). */
export function PassBadge({ pass, yes = 'pass', no = 'fail' }: { pass: boolean; yes?: string; no?: string }) {
  return <Badge tone={pass ? 'ok' : 'bad'}>{pass ? yes : no}</Badge>;
}
