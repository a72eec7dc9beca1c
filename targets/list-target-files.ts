/**
 * The target files faultline knows: the shipped ones (`targets/<name>.yaml`)
 * and the examples' (`examples/<name>/target.yaml`), each read through
 * `loadTarget` — a file that does not validate is listed with its error
 * (field and line), not dropped, so the console can show what to fix.
 *
 *   <root>/targets/*.yaml ──────────┐
 *   <root>/examples/*\/target.yaml ──┴─▶ loadTarget ─▶ { id, path, target | error }
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { toAppError, type TFieldIssue } from '../core/errors.js';
import { loadTarget, TARGETS_DIR } from './load.js';
import type { TTarget } from './schema.js';

/** The folder holding `targets/`, `examples/` and `experiments/` (this checkout). */
export const REPO_ROOT = path.dirname(TARGETS_DIR);

export interface TTargetFile {
  /** How the console and the API name it: `shop` for targets/shop.yaml, `transfers` for examples/transfers/target.yaml. */
  id: string;
  /** Absolute path of the file. */
  file: string;
  /** Path relative to the root, as shown to users (`examples/transfers/target.yaml`). */
  path: string;
  /** The validated target; absent when the file does not validate. */
  target?: TTarget;
  /** Why the file does not validate: each issue at its field and line. */
  error?: { code: string; message: string; issues: TFieldIssue[] };
}

async function entries(dir: string): Promise<import('node:fs').Dirent[]> {
  return readdir(dir, { withFileTypes: true }).catch(() => []);
}

/** Paths (absolute) of the target files under `root`, shipped first, each group by name. */
async function targetFilePaths(root: string): Promise<{ id: string; file: string }[]> {
  const shipped = (await entries(path.join(root, 'targets')))
    .filter((d) => d.isFile() && /\.ya?ml$/.test(d.name))
    .map((d) => ({ id: d.name.replace(/\.ya?ml$/, ''), file: path.join(root, 'targets', d.name) }));
  const examples: { id: string; file: string }[] = [];
  for (const d of await entries(path.join(root, 'examples'))) {
    if (!d.isDirectory()) continue;
    const names = (await entries(path.join(root, 'examples', d.name))).map((f) => f.name);
    const name = names.find((n) => n === 'target.yaml') ?? names.find((n) => n === 'target.yml');
    if (name) examples.push({ id: d.name, file: path.join(root, 'examples', d.name, name) });
  }
  const byName = (a: { id: string }, b: { id: string }) => a.id.localeCompare(b.id);
  const out = [...shipped.sort(byName), ...examples.sort(byName)];
  // an example named like a shipped target keeps both reachable
  const seen = new Set<string>();
  return out.map((x) => {
    const id = seen.has(x.id) ? `example-${x.id}` : x.id;
    seen.add(id);
    return { ...x, id };
  });
}

/** The names of the shipped target files under `root` (`shop`, `transfers`): what a target saved in the console may not be called. */
export async function targetFileIds(root: string = REPO_ROOT): Promise<string[]> {
  return (await targetFilePaths(root)).map((x) => x.id);
}

/** Validation as a list shows it: the target, or why it is not one (each issue at its field and line); never throws. */
export async function validatedTarget(read: () => Promise<TTarget>): Promise<Pick<TTargetFile, 'target' | 'error'>> {
  try {
    return { target: await read() };
  } catch (e) {
    const err = toAppError(e);
    return { error: { code: err.code, message: err.message, issues: err.issues } };
  }
}

/** Every target file under `root` (default: this checkout), validated; never throws for a bad file. */
export async function listTargetFiles(root: string = REPO_ROOT): Promise<TTargetFile[]> {
  const out: TTargetFile[] = [];
  for (const { id, file } of await targetFilePaths(root))
    out.push({ id, file, path: path.relative(root, file), ...(await validatedTarget(async () => (await loadTarget(file, root)).target)) });
  return out;
}
