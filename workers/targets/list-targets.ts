/**
 * Targets as the console lists them: each target file (targets/ and
 * examples/, `listTargetFiles`) with the experiment files that name it, and
 * the check of one of them (the same `checkTarget` as `faultline target check`).
 *
 *   listTargetFiles(root) ──┐
 *   experiment files ───────┴─▶ target: resolved to a file ─▶ { target, experiments[] }
 *   checkTargetFile(id) ────▶ the file validates? ─▶ checkTarget ─▶ one line per piece
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '../../core/errors.js';
import { parseExperiment, resolveExperimentRefs } from '../../experiments/index.js';
import { isTargetPath, listTargetFiles, REPO_ROOT, type TTargetFile } from '../../targets/index.js';
import { checkTarget, type TCheckLine, type TCheckTargetOptions } from './check-target.js';

export interface TTargetExperiment {
  name: string;
  /** The experiment file, relative to the root (`examples/transfers/experiments/worker-killed.yaml`). */
  path: string;
  /** The console has a page for it (`/experiments/<name>`): a file in experiments/, or an experiment saved in the console. */
  shipped: boolean;
}

/** Who saved a target in the console, and when. */
export interface TSavedBy {
  createdBy: string;
  updatedBy: string;
  createdAt: Date;
  updatedAt: Date;
}

export interface TTargetSummary extends TTargetFile {
  /** Experiment files whose `target:` resolves to this file (for a saved target: the console's experiments naming it). */
  experiments: TTargetExperiment[];
  /** Set for a target saved in the console (saved-targets.ts): it has no file, so `file` and `path` are empty. */
  saved?: TSavedBy;
}

export interface TListTargetsOptions {
  /**
   * The folder holding targets/, examples/ and experiments/.
   * @defaultValue this checkout
   */
  root?: string;
}

/** Experiment files under `root`: experiments/*.yaml and examples/*\/experiments/*.yaml (suites and broken files skipped). */
async function experimentFiles(root: string): Promise<{ file: string; dir: string }[]> {
  const yamlIn = async (dir: string) =>
    (await readdir(dir).catch(() => [] as string[]))
      .filter((f) => /\.ya?ml$/.test(f))
      .sort()
      .map((f) => ({ file: path.join(dir, f), dir }));
  const examples = await readdir(path.join(root, 'examples')).catch(() => [] as string[]);
  const nested = await Promise.all(examples.sort().map((x) => yamlIn(path.join(root, 'examples', x, 'experiments'))));
  return [...(await yamlIn(path.join(root, 'experiments'))), ...nested.flat()];
}

/** Which target file each experiment names: a name (`shop`, the default) is `<root>/targets/<name>.yaml`, a path resolves against the experiment's folder. */
async function experimentsByTargetFile(root: string): Promise<Map<string, TTargetExperiment[]>> {
  const out = new Map<string, TTargetExperiment[]>();
  for (const { file, dir } of await experimentFiles(root)) {
    let target: string;
    let name: string;
    try {
      const e = resolveExperimentRefs(parseExperiment(await readFile(file, 'utf8'), file), dir);
      target = isTargetPath(e.target) ? e.target : path.join(root, 'targets', `${e.target}.yaml`);
      name = e.name;
    } catch {
      continue; // a suite, or an experiment that does not validate: it names no target
    }
    const list = out.get(target) ?? [];
    list.push({ name, path: path.relative(root, file), shipped: dir === path.join(root, 'experiments') });
    out.set(target, list);
  }
  return out;
}

/** Every target file with the experiments that name it; a file that does not validate carries its error. */
export async function listTargets(o: TListTargetsOptions = {}): Promise<TTargetSummary[]> {
  const root = o.root ?? REPO_ROOT;
  const [files, byTarget] = await Promise.all([listTargetFiles(root), experimentsByTargetFile(root)]);
  return files.map((f) => ({ ...f, experiments: byTarget.get(f.file) ?? [] }));
}

/** One target by its id (`shop`, `transfers`); NOT_FOUND naming the known ones. */
export async function getTarget(id: string, o: TListTargetsOptions = {}): Promise<TTargetSummary> {
  const all = await listTargets(o);
  const t = all.find((x) => x.id === id);
  if (!t) throw new AppError('NOT_FOUND', `no target ${id} (known: ${all.map((x) => x.id).join(', ') || 'none'})`);
  return t;
}

export interface TTargetCheck {
  id: string;
  name: string;
  path: string;
  /** One line per piece, as `faultline target check` prints them. */
  lines: TCheckLine[];
  failed: number;
}

/**
 * `faultline target check` for one listed target: VALIDATION (each issue at
 * its field and line) when the file does not validate, else one line per piece.
 */
export async function checkTargetFile(id: string, o: TListTargetsOptions & TCheckTargetOptions = {}): Promise<TTargetCheck> {
  return checkListedTarget(await getTarget(id, o), o);
}

/** The check of a listed target, a file's or one saved in the console (the same lines either way). */
export async function checkListedTarget(t: TTargetSummary, o: TCheckTargetOptions = {}): Promise<TTargetCheck> {
  if (!t.target) throw new AppError('VALIDATION', t.error?.message ?? `${t.path || t.id} does not validate`, { issues: t.error?.issues ?? [] });
  const lines = await checkTarget(t.target, { timeoutMs: o.timeoutMs, env: o.env });
  return { id: t.id, name: t.target.name, path: t.path, lines, failed: lines.filter((l) => !l.ok).length };
}
