/**
 * Experiments as the console sees them, with one source of truth each:
 *
 *   experiments/<id>.yaml exists ─┬─ no row, or a row a run wrote (source_path set) ─▶ shipped: the file
 *                                 └─ a row saved from the console (source_path null) ─▶ edited copy of the file
 *   no such file ──────────────────── a row (console or CLI) ─────────────────────────▶ saved
 *
 * A run records the text it ran in the row (with the file as source_path),
 * which never makes it a copy: later edits of the file are what the next
 * run uses. Only saving an edited version makes a copy, and deleting that
 * copy is the way back to the file.
 */
import { access, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { and, eq, sql } from 'drizzle-orm';
import { AppError } from '../../core/errors.js';
import { experiments, schedules } from '../../db/schema/index.js';
import type { TDb } from '../../db/client.js';
import {
  checkExperimentTarget,
  EXPERIMENTS_DIR,
  isTargetFile,
  listExperiments,
  parseExperiment,
  resolveExperimentRefs,
  type TExperiment,
} from '../../experiments/index.js';
import { REPO_ROOT } from '../../targets/index.js';
import { yamlLineOf } from '../../core/validate.js';
import { resolveTargetFile } from '../../workers/targets/index.js';
import { config } from './deps.js';
import { lastRunPerExperiment } from './queries.js';
import { assertShopTargets } from '../../cli/shop-targets.js';

/**
 * Parse and check against what exists: the load scenario must be shipped,
 * fault targets must be edges / instances / services of the shop, breaker
 * expectations real breakers (the same pre-flight as `faultline run`),
 * each problem at its field and line. An experiment naming a target file
 * (the editor's target picker) is checked against that file's edges,
 * processes and invariants (checkExperimentTarget, as `faultline run` does);
 * a console experiment has no folder of its own, so its `target` and
 * scenario paths are relative to the targets root (FAULTLINE_TARGETS_ROOT,
 * default this checkout: `examples/transfers/target.yaml`). The parsed,
 * unresolved experiment is what is stored (no server paths).
 */
async function parseChecked(db: TDb, yaml: string, filename: string): Promise<TExperiment> {
  const e = parseExperiment(yaml, filename);
  if (!isTargetFile(e.target)) assertShopTargets(e, yaml, filename);
  else await checkExperimentTarget(await withTargetFile(db, resolveExperimentRefs(e, targetsRoot()), yaml), filename, yaml);
  return e;
}

/**
 * The experiment with its `target` as a file path, as a run will load it (resolveTargetFile): a
 * name of a target saved in the console becomes its file; a name that is none is refused at `target`.
 */
async function withTargetFile(db: TDb, e: TExperiment, yaml: string): Promise<TExperiment> {
  try {
    return { ...e, target: await resolveTargetFile(db, e.target, { cwd: targetsRoot() }) };
  } catch (err) {
    if (!(err instanceof AppError && err.code === 'NOT_FOUND')) throw err;
    const line = yamlLineOf(yaml, ['target']);
    const message = `no target file targets/${e.target}.yaml and no target saved in the console as "${e.target}" (${err.issues[0]?.message ?? err.message})`;
    throw new AppError('VALIDATION', `experiment: ${message}`, { issues: [{ path: 'target', message, ...(line ? { line } : {}) }] });
  }
}

/** Where a console experiment's relative target and scenario paths point from. */
export function targetsRoot(): string {
  return config().FAULTLINE_TARGETS_ROOT ?? REPO_ROOT;
}

/** Where an experiment's definition lives: the shipped file, an edited copy of it in the database, or only the database. */
export type TExperimentSource = 'shipped' | 'edited' | 'saved';

export interface TExperimentSummary {
  id: string;
  name: string;
  description: string;
  source: TExperimentSource;
  /** For an edited copy: the shipped file it was edited from (e.g. `experiments/payments-latency.yaml`). */
  editedFrom?: string;
  faults: { name: string; type: string; target: string }[];
  tags: string[];
  detects: string[];
  lastRun?: { id: string; state: string; createdAt: string };
}

function targetText(t: unknown): string {
  return typeof t === 'string' ? t : JSON.stringify(t);
}

function summarize(e: TExperiment, source: TExperimentSource): TExperimentSummary {
  return {
    id: e.name,
    name: e.name,
    description: e.description,
    source,
    ...(source === 'edited' ? { editedFrom: shippedPath(e.name) } : {}),
    faults: e.faults.map((f) => ({ name: f.name, type: f.fault.type, target: targetText((f.fault as { target?: unknown }).target) })),
    tags: e.tags,
    detects: e.detects,
  };
}

/** The shipped file of experiment `id`, relative to the repository (as shown to users). */
function shippedPath(id: string): string {
  return `experiments/${id}.yaml`;
}

const ID = /^[a-z0-9][a-z0-9-]{0,79}$/;

/** A row saved from the console (no file behind it): a copy when a shipped file of the same name exists. */
function isConsoleCopy(row: { sourcePath: string | null }): boolean {
  return row.sourcePath === null;
}

export async function listAll(db: TDb): Promise<TExperimentSummary[]> {
  const [saved, shipped, last] = await Promise.all([db.select().from(experiments), listExperiments().catch(() => []), lastRunPerExperiment(db)]);
  const byName = new Map<string, TExperimentSummary>();
  for (const s of shipped) byName.set(s.experiment.name, summarize(s.experiment, 'shipped'));
  for (const row of saved) {
    const file = byName.get(row.id);
    // A row a run wrote for a shipped file is only the record of what ran: the file stays the truth.
    if (file && !isConsoleCopy(row)) continue;
    const source: TExperimentSource = file ? 'edited' : 'saved';
    try {
      byName.set(row.id, summarize(parseStored(row.sourceText, row.definition, row.id), source));
    } catch {
      byName.set(row.id, {
        id: row.id,
        name: row.name,
        description: row.description ?? '',
        source,
        ...(file ? { editedFrom: shippedPath(row.id) } : {}),
        faults: [],
        tags: [],
        detects: [],
      });
    }
  }
  return (
    [...byName.values()]
      // Fault-free runs started from the Load tests page are stored as experiments too; they live on that page.
      .filter((x) => !x.tags.includes('loadtest'))
      .map((x) => ({ ...x, lastRun: last.get(x.name) }))
      .sort((a, b) => a.name.localeCompare(b.name))
  );
}

function parseStored(sourceText: string | null, definition: unknown, id: string): TExperiment {
  if (sourceText) return parseExperiment(sourceText, `${id}.yaml`);
  return definition as TExperiment;
}

export interface TExperimentDetail {
  id: string;
  source: TExperimentSource;
  /** For an edited copy: the shipped file it was edited from; deleting the copy goes back to it. */
  editedFrom?: string;
  yaml: string;
  experiment: TExperiment;
}

async function readShipped(id: string): Promise<string | undefined> {
  try {
    return await readFile(path.join(EXPERIMENTS_DIR, `${id}.yaml`), 'utf8');
  } catch {
    return undefined;
  }
}

async function shippedExists(id: string): Promise<boolean> {
  return access(path.join(EXPERIMENTS_DIR, `${id}.yaml`)).then(
    () => true,
    () => false,
  );
}

export async function getExperiment(db: TDb, id: string): Promise<TExperimentDetail> {
  if (!ID.test(id)) throw new AppError('NOT_FOUND', `no experiment ${id}`);
  const [row] = await db.select().from(experiments).where(eq(experiments.id, id)).limit(1);
  const file = await readShipped(id);
  if (row && (file === undefined || isConsoleCopy(row))) {
    const yaml = row.sourceText ?? '';
    const source: TExperimentSource = file === undefined ? 'saved' : 'edited';
    return { id, source, ...(source === 'edited' ? { editedFrom: shippedPath(id) } : {}), yaml, experiment: parseStored(row.sourceText, row.definition, id) };
  }
  if (file === undefined) throw new AppError('NOT_FOUND', `no experiment ${id}`);
  return { id, source: 'shipped', yaml: file, experiment: parseExperiment(file, `${id}.yaml`) };
}

/**
 * Create a new experiment from YAML, named by its `name`. A name already
 * taken (saved, or a shipped file) is refused with 409: creating never
 * overwrites; editing is {@link updateExperiment}.
 */
export async function createExperiment(db: TDb, yaml: string): Promise<TExperimentDetail> {
  const e = await parseChecked(db, yaml, 'experiment.yaml');
  const conflict = () =>
    new AppError('CONFLICT', `an experiment named ${e.name} already exists`, {
      issues: [{ path: 'name', message: `"${e.name}" is taken: choose another name, or edit ${e.name}`, line: 1 }],
    });
  if (await shippedExists(e.name)) throw conflict();
  const inserted = await db
    .insert(experiments)
    .values({ id: e.name, name: e.name, description: e.description, sourcePath: null, sourceText: yaml, definition: e })
    .onConflictDoNothing({ target: experiments.id })
    .returning({ id: experiments.id });
  if (!inserted.length) throw conflict();
  return { id: e.name, source: 'saved', yaml, experiment: e };
}

/**
 * Save an edited version of experiment `id`; the name must not change, so
 * links and schedules keep pointing at it. Editing a shipped experiment
 * stores an edited copy (the file stays as it is).
 */
export async function updateExperiment(db: TDb, yaml: string, id: string): Promise<TExperimentDetail> {
  const current = await getExperiment(db, id);
  const e = await parseChecked(db, yaml, `${id}.yaml`);
  if (e.name !== id)
    throw new AppError('VALIDATION', 'invalid experiment', {
      issues: [{ path: 'name', message: `must stay "${id}" when editing (create a new experiment to rename)`, line: 1 }],
    });
  await db
    .insert(experiments)
    .values({ id, name: id, description: e.description, sourcePath: null, sourceText: yaml, definition: e })
    .onConflictDoUpdate({
      target: experiments.id,
      set: { description: e.description, sourcePath: null, sourceText: yaml, definition: e, updatedAt: new Date() },
    });
  const source: TExperimentSource = current.source === 'saved' ? 'saved' : 'edited';
  return { id, source, ...(source === 'edited' ? { editedFrom: shippedPath(id) } : {}), yaml, experiment: e };
}

/**
 * Delete experiment `id`. An edited copy is dropped and the shipped file
 * is the experiment again (the row goes back to recording the file, so
 * its runs stay linked); a saved one is removed unless a schedule still
 * starts it; a shipped file is not the console's to delete.
 */
export async function deleteExperiment(db: TDb, id: string): Promise<{ ok: true; id: string; now: 'shipped' | 'deleted' }> {
  const current = await getExperiment(db, id);
  if (current.source === 'shipped')
    throw new AppError(
      'CONFLICT',
      `${id} is shipped as ${shippedPath(id)}: remove the file to delete it (the console deletes saved experiments and edited copies)`,
    );
  if (current.source === 'edited') {
    const file = (await readShipped(id))!;
    const e = parseExperiment(file, `${id}.yaml`);
    await db
      .update(experiments)
      .set({ description: e.description, sourcePath: shippedPath(id), sourceText: file, definition: e, updatedAt: new Date() })
      .where(and(eq(experiments.id, id), sql`${experiments.sourcePath} is null`));
    return { ok: true, id, now: 'shipped' };
  }
  const users = await db
    .select({ name: schedules.name })
    .from(schedules)
    .where(and(eq(schedules.kind, 'experiment'), eq(schedules.ref, id)));
  if (users.length)
    throw new AppError(
      'CONFLICT',
      `${id} is started by schedule${users.length > 1 ? 's' : ''} ${users.map((u) => u.name).join(', ')}: delete or change ${users.length > 1 ? 'them' : 'it'} first`,
    );
  await db.delete(experiments).where(eq(experiments.id, id));
  return { ok: true, id, now: 'deleted' };
}

/** Validate only (the editor's live check). */
export function validateExperiment(db: TDb, yaml: string): Promise<TExperiment> {
  return parseChecked(db, yaml, 'experiment.yaml');
}

/** Suites shipped in experiments/suites (names, for the schedule form). */
export async function listSuites(): Promise<string[]> {
  const files = await readdir(path.join(EXPERIMENTS_DIR, 'suites')).catch(() => [] as string[]);
  return files
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => f.replace(/\.ya?ml$/, ''))
    .sort();
}
