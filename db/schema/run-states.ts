/**
 * The run states and which of them end a run: the one list the runs table,
 * the runner's lifecycle and the console's run page share. No imports, so
 * the console's client components can read it without pulling in drizzle or
 * the workers.
 */
export const RUN_STATES = ['queued', 'steady_state', 'running', 'recovering', 'analysing', 'passed', 'failed', 'aborted', 'errored'] as const;
export type TRunState = (typeof RUN_STATES)[number];
export const TERMINAL_RUN_STATES = ['passed', 'failed', 'aborted', 'errored'] as const satisfies readonly TRunState[];

/** Whether a run in state `s` has ended (a string, so a state read from an event or a row can be asked as is). */
export function isTerminal(s: string): boolean {
  return (TERMINAL_RUN_STATES as readonly string[]).includes(s);
}
