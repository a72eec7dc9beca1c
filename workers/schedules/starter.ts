/**
 * The schedule's view of what it runs: targets of an experiment or a suite
 * (an edited copy saved from the console first, then the shipped file, then
 * any other saved experiment: a row a run wrote for a shipped file is only
 * the record of what ran and never hides later edits of the file), and the function that
 * starts runs — the runner's, passed in by whoever wires the worker.
 */
import { access } from 'node:fs/promises';
import path from 'node:path';
import { eq } from 'drizzle-orm';
import { AppError } from '../../core/errors.js';
import type { TDb } from '../../db/client.js';
import { experiments } from '../../db/schema/index.js';
import { EXPERIMENTS_DIR, loadExperimentFile, loadSuiteFile, type TExperiment } from '../../experiments/index.js';
import type { TRunStarter } from './schedules.js';

export interface TPlatformStarterOptions {
  db: TDb;
  /** Start one run of an experiment definition for a schedule; returns the run id (the runner's enqueue). */
  startExperiment(e: TExperiment, ctx: { scheduleId: string; suite?: string }): Promise<string>;
  /** Start a whole suite (runs one after another); returns its run ids. @defaultValue each experiment started in turn via startExperiment */
  startSuite?(name: string, ctx: { scheduleId: string }): Promise<string[]>;
  /** Folder of shipped experiments. @defaultValue experiments/ */
  experimentsDir?: string;
}

export async function resolveExperiment(db: TDb, id: string, dir = EXPERIMENTS_DIR): Promise<TExperiment> {
  const [row] = await db.select().from(experiments).where(eq(experiments.id, id)).limit(1);
  if (row && row.sourcePath === null) return row.definition as TExperiment;
  if (!/^[a-z0-9][a-z0-9-]{0,79}$/.test(id)) {
    if (row) return row.definition as TExperiment;
    throw new AppError('NOT_FOUND', `no experiment ${id}`);
  }
  const file = path.join(dir, `${id}.yaml`);
  const shipped = await access(file).then(
    () => true,
    () => false,
  );
  if (row && !shipped) return row.definition as TExperiment;
  return loadExperimentFile(file);
}

async function resolveSuite(name: string, dir: string) {
  if (!/^[a-z0-9][a-z0-9-]{0,79}$/.test(name)) throw new AppError('NOT_FOUND', `no suite ${name}`);
  return loadSuiteFile(path.join(dir, 'suites', `${name}.yaml`));
}

export function platformStarter(o: TPlatformStarterOptions): TRunStarter {
  const dir = o.experimentsDir ?? EXPERIMENTS_DIR;
  return {
    async targets(kind, ref) {
      if (kind === 'experiment') return [(await resolveExperiment(o.db, ref, dir)).target];
      const s = await resolveSuite(ref, dir);
      return [...new Set(s.experiments.map((x) => x.experiment.target))];
    },
    async start(kind, ref, ctx) {
      if (kind === 'experiment') return [await o.startExperiment(await resolveExperiment(o.db, ref, dir), ctx)];
      if (o.startSuite) return o.startSuite(ref, ctx);
      const s = await resolveSuite(ref, dir);
      const ids: string[] = [];
      for (const x of s.experiments) ids.push(await o.startExperiment(x.experiment, { ...ctx, suite: ref }));
      return ids;
    },
  };
}
