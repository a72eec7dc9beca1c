/**
 * Experiments as the console sees them: the ones saved in the platform
 * database (console, CLI) and the ones shipped in experiments/*.yaml. A
 * saved experiment with the same name wins over the shipped file.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { eq } from 'drizzle-orm';
import { AppError } from '../../core/errors.js';
import { experiments } from '../../db/schema/index.js';
import type { TDb } from '../../db/client.js';
import { EXPERIMENTS_DIR, listExperiments, parseExperiment, type TExperiment } from '../../experiments/index.js';
import { lastRunPerExperiment } from './queries.js';

export interface TExperimentSummary {
  id: string;
  name: string;
  description: string;
  source: 'saved' | 'shipped';
  faults: { name: string; type: string; target: string }[];
  tags: string[];
  detects: string[];
  lastRun?: { id: string; state: string; createdAt: string };
}

function targetText(t: unknown): string {
  return typeof t === 'string' ? t : JSON.stringify(t);
}

function summarize(e: TExperiment, source: 'saved' | 'shipped'): TExperimentSummary {
  return {
    id: e.name,
    name: e.name,
    description: e.description,
    source,
    faults: e.faults.map((f) => ({ name: f.name, type: f.fault.type, target: targetText((f.fault as { target?: unknown }).target) })),
    tags: e.tags,
    detects: e.detects,
  };
}

export async function listAll(db: TDb): Promise<TExperimentSummary[]> {
  const [saved, shipped, last] = await Promise.all([db.select().from(experiments), listExperiments().catch(() => []), lastRunPerExperiment(db)]);
  const byName = new Map<string, TExperimentSummary>();
  for (const s of shipped) byName.set(s.experiment.name, summarize(s.experiment, 'shipped'));
  for (const row of saved) {
    try {
      byName.set(row.id, summarize(parseStored(row.sourceText, row.definition, row.id), 'saved'));
    } catch {
      byName.set(row.id, { id: row.id, name: row.name, description: row.description ?? '', source: 'saved', faults: [], tags: [], detects: [] });
    }
  }
  return [...byName.values()]
    // Fault-free runs started from the Load tests page are stored as experiments too; they live on that page.
    .filter((x) => !x.tags.includes('loadtest'))
    .map((x) => ({ ...x, lastRun: last.get(x.name) }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

function parseStored(sourceText: string | null, definition: unknown, id: string): TExperiment {
  if (sourceText) return parseExperiment(sourceText, `${id}.yaml`);
  return definition as TExperiment;
}

export interface TExperimentDetail {
  id: string;
  source: 'saved' | 'shipped';
  yaml: string;
  experiment: TExperiment;
}

export async function getExperiment(db: TDb, id: string): Promise<TExperimentDetail> {
  if (!/^[a-z0-9][a-z0-9-]{0,79}$/.test(id)) throw new AppError('NOT_FOUND', `no experiment ${id}`);
  const [row] = await db.select().from(experiments).where(eq(experiments.id, id)).limit(1);
  if (row) {
    const yaml = row.sourceText ?? '';
    return { id, source: 'saved', yaml, experiment: parseStored(row.sourceText, row.definition, id) };
  }
  const file = path.join(EXPERIMENTS_DIR, `${id}.yaml`);
  let yaml: string;
  try {
    yaml = await readFile(file, 'utf8');
  } catch {
    throw new AppError('NOT_FOUND', `no experiment ${id}`);
  }
  return { id, source: 'shipped', yaml, experiment: parseExperiment(yaml, `${id}.yaml`) };
}

/**
 * Validate YAML and save it under its `name`. `id` given (edit): the name
 * must not change, so links and schedules keep pointing at it.
 */
export async function saveExperiment(db: TDb, yaml: string, id?: string): Promise<TExperimentDetail> {
  const e = parseExperiment(yaml, id ? `${id}.yaml` : 'experiment.yaml');
  if (id && e.name !== id)
    throw new AppError('VALIDATION', 'invalid experiment', { issues: [{ path: 'name', message: `must stay "${id}" when editing (create a new experiment to rename)`, line: 1 }] });
  await db
    .insert(experiments)
    .values({ id: e.name, name: e.name, description: e.description, sourceText: yaml, definition: e })
    .onConflictDoUpdate({ target: experiments.id, set: { description: e.description, sourceText: yaml, definition: e, updatedAt: new Date() } });
  return { id: e.name, source: 'saved', yaml, experiment: e };
}

/** Validate only (the editor's live check). */
export function validateExperiment(yaml: string): TExperiment {
  return parseExperiment(yaml, 'experiment.yaml');
}

/** Suites shipped in experiments/suites (names, for the schedule form). */
export async function listSuites(): Promise<string[]> {
  const files = await readdir(path.join(EXPERIMENTS_DIR, 'suites')).catch(() => [] as string[]);
  return files.filter((f) => /\.ya?ml$/.test(f)).map((f) => f.replace(/\.ya?ml$/, '')).sort();
}
