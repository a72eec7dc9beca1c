/**
 * Fault planning (contract 3; experiments owns it, the runner calls it): the
 * timed faults one run applies. An experiment's own `faults`, plus, for an
 * experiment with a `nemesis` block, its seeded random schedule expanded
 * against the live topology (the supervisor's edges and instances), so the
 * schedule only names what exists in this shop. Same seed and topology →
 * the same list (experiments/nemesis.ts).
 */
import { z } from 'zod';
import { AppError } from '../../core/errors.js';
import { planNemesis, type TExperiment, type TNemesisTopology, type TTimedFault } from '../../experiments/index.js';

export interface TPlanFaultsContext {
  /** Base URL of the supervisor of the shop this run targets (for its edges and instances). */
  supervisorUrl: string;
  /** Length of this run's load, in ms: every nemesis fault lies inside it. */
  loadDurationMs: number;
  /** The shop's topology when the caller already has it (tests); otherwise fetched from the supervisor. */
  topology?: TNemesisTopology;
}

const TopologySchema = z.object({
  edges: z.array(z.object({ name: z.string(), from: z.string(), to: z.string() })),
  instances: z.array(z.object({ id: z.string(), service: z.string() })),
});

/**
 * The shop's edges and instances as its supervisor lists them now (GET
 * /edges, GET /instances, docs/architecture.md "Supervisor admin API").
 * Read directly: two GETs, so planning does not depend on a client class.
 */
export async function fetchTopology(supervisorUrl: string, timeoutMs = 5000): Promise<TNemesisTopology> {
  const base = supervisorUrl.replace(/\/+$/, '');
  const get = async (p: string): Promise<unknown> => {
    let res: Response;
    try {
      res = await fetch(`${base}${p}`, { signal: AbortSignal.timeout(timeoutMs) });
    } catch (e) {
      throw new AppError(
        'UNAVAILABLE',
        `nemesis: the shop supervisor at ${base} did not answer GET ${p} (${(e as Error).message}); the schedule needs its edges and instances`,
        { cause: e },
      );
    }
    if (!res.ok) throw new AppError('UNAVAILABLE', `nemesis: the shop supervisor at ${base} answered GET ${p} with HTTP ${res.status}`);
    return res.json();
  };
  const [edges, instances] = await Promise.all([get('/edges'), get('/instances')]);
  const parsed = TopologySchema.safeParse({ edges, instances });
  if (!parsed.success) throw new AppError('UNAVAILABLE', `nemesis: the shop supervisor at ${base} listed edges or instances in an unknown shape`);
  return parsed.data;
}

/** The timed faults of one run, ordered by start time. */
export async function resolveFaults(experiment: TExperiment, ctx: TPlanFaultsContext): Promise<TTimedFault[]> {
  const own = [...experiment.faults];
  if (experiment.nemesis) {
    const topology = ctx.topology ?? (await fetchTopology(ctx.supervisorUrl));
    own.push(...planNemesis(experiment.nemesis, topology, ctx.loadDurationMs));
  }
  return own.sort((a, b) => a.at - b.at);
}
