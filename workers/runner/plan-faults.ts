/**
 * Fault planning (contract 3; experiments owns it, the runner calls it): the
 * timed faults one run applies. An experiment's own `faults`, plus, for an
 * experiment with a `nemesis` block, its seeded random schedule expanded
 * against the live topology (the shop supervisor's edges and instances, or a
 * target file's), so the schedule only names what exists. Same seed and topology →
 * the same list (experiments/nemesis.ts).
 */
import { AppError } from '../../core/errors.js';
import { planNemesis, type TExperiment, type TNemesisTopology, type TTimedFault } from '../../experiments/index.js';
import { SupervisorClient } from '../collectors/index.js';

export interface TPlanFaultsContext {
  /** Length of this run's load, in ms: every nemesis fault lies inside it. */
  loadDurationMs: number;
  /** The system's topology (asked only for a nemesis): the shop's supervisor, a target file's proxies and instances. */
  topology: TNemesisTopology | (() => Promise<TNemesisTopology>);
}

/**
 * The shop's edges and instances as its supervisor lists them now (GET
 * /edges, GET /instances), read with the one supervisor client.
 */
export async function fetchTopology(supervisorUrl: string, timeoutMs = 5000): Promise<TNemesisTopology> {
  const sup = new SupervisorClient({ url: supervisorUrl, timeoutMs });
  try {
    const [edges, instances] = await Promise.all([sup.edges(), sup.instances()]);
    return { edges: edges.map(({ name, from, to }) => ({ name, from, to })), instances: instances.map(({ id, service }) => ({ id, service })) };
  } catch (e) {
    throw new AppError('UNAVAILABLE', `nemesis: ${(e as Error).message}; the schedule needs the shop's edges and instances`, { cause: e });
  }
}

/** The timed faults of one run, ordered by start time. */
export async function resolveFaults(experiment: TExperiment, ctx: TPlanFaultsContext): Promise<TTimedFault[]> {
  const own = [...experiment.faults];
  if (experiment.nemesis) {
    const topology = typeof ctx.topology === 'function' ? await ctx.topology() : ctx.topology;
    own.push(...planNemesis(experiment.nemesis, topology, ctx.loadDurationMs));
  }
  return own.sort((a, b) => a.at - b.at);
}
