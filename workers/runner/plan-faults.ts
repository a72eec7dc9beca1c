/**
 * Fault planning (contract 3, helper D writes, the runner calls): the timed
 * faults a run applies. For now the experiment's own `faults`; the nemesis
 * schedule is expanded here too once the `nemesis` block exists.
 */
import type { TExperiment, TTimedFault } from '../../experiments/index.js';

export interface TPlanFaultsContext {
  /** Base URL of the supervisor of the shop this run targets (for its edges and instances). */
  supervisorUrl: string;
  /** Length of this run's load, in ms: every planned fault lies inside it. */
  loadDurationMs: number;
}

/** The timed faults of one run, ordered by start time. */
export async function resolveFaults(experiment: TExperiment, _ctx: TPlanFaultsContext): Promise<TTimedFault[]> {
  return [...experiment.faults].sort((a, b) => a.at - b.at);
}
