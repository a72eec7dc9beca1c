/**
 * Targets saved in the console: a target file's YAML kept in the platform
 * database (the `targets` table) instead of on disk, named by the target's
 * own `name` — an experiment names one as it names the shop, `target: <name>`.
 * Everything else about targets works on files (the loader, the run's target
 * system, the fault ledger that undoes a process fault after a crash by
 * re-reading `targetFile`), so a saved target becomes a file when a run or a
 * check needs one:
 *
 *   experiment `target:` ─┬─ a path (a `/` or .yaml) ───────▶ that file
 *                         ├─ a name of targets/<name>.yaml ─▶ that file (shop too)
 *                         └─ a name saved in the console ──▶ its YAML ─▶ <data dir>/targets/<name>.<sha256 12>.yaml
 *                                                             (written once, atomically; never rewritten)
 *
 * The file is named after its content: a run that started on one version
 * keeps reading that version (a reconciler undoing its faults after a crash
 * too) while the console saves the next, and files are never deleted — a
 * crashed run's ledger may still point at one.
 *
 * Saving validates with the real schema (`parseTarget`: each issue at its
 * field and line) before anything is written, so a refused save leaves the
 * stored row as it was; a name of a shipped target file is refused at `name`.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { eq, inArray, sql } from 'drizzle-orm';
import { AppError } from '../../core/errors.js';
import { loadConfig } from '../../core/config.js';
import { yamlLineOf } from '../../core/validate.js';
import type { TDb } from '../../db/client.js';
import { experiments, savedTargets } from '../../db/schema/index.js';
import { isTargetPath, parseTarget, REPO_ROOT, targetFileIds, targetPath, validatedTarget, type TTarget } from '../../targets/index.js';
import type { TTargetSummary } from './list-targets.js';

/** A saved target's name: the target schema's `name` (lowercase letters, digits, `-`, `_`). */
export const SAVED_TARGET_NAME = /^[a-z0-9][a-z0-9_-]{0,79}$/;

export interface TSavedTargetOptions {
  /**
   * The folder whose targets/ and examples/ hold the shipped target files (whose names a saved target may not take).
   * @defaultValue this checkout
   */
  root?: string;
}

export interface TSavedTarget {
  name: string;
  yaml: string;
  createdBy: string;
  updatedBy: string;
  createdAt: Date;
  updatedAt: Date;
}

const notFound = (name: string, known: string[]) =>
  new AppError('NOT_FOUND', `no target saved in the console as ${name}`, {
    issues: [{ path: 'target', message: `no saved target "${name}"; saved: ${known.join(', ') || 'none'}` }],
  });

/** The YAML of the target saved as `name`; NOT_FOUND naming the saved ones. */
export async function resolveSavedTarget(db: TDb, name: string): Promise<string> {
  const [row] = SAVED_TARGET_NAME.test(name) ? await db.select({ yaml: savedTargets.yaml }).from(savedTargets).where(eq(savedTargets.name, name)).limit(1) : [];
  if (row) return row.yaml;
  throw notFound(name, await savedTargetNames(db));
}

/** Names of the saved targets, sorted. */
export async function savedTargetNames(db: TDb): Promise<string[]> {
  return (await db.select({ name: savedTargets.name }).from(savedTargets).orderBy(savedTargets.name)).map((r) => r.name);
}

/** `<data dir>/targets` as an absolute path (FAULTLINE_DATA_DIR, relative to the working directory). */
export function savedTargetsDir(dataDir: string = loadConfig().FAULTLINE_DATA_DIR): string {
  return path.resolve(dataDir, 'targets');
}

/**
 * Write a saved target's YAML to `<dir>/<name>.<sha256 of the text, 12 hex>.yaml` unless that file
 * is already there, through a temporary file and a rename (a reader never sees half a file);
 * returns the absolute path.
 */
export async function materializeSavedTarget(name: string, yaml: string, dir: string = savedTargetsDir()): Promise<string> {
  if (!SAVED_TARGET_NAME.test(name)) throw new AppError('VALIDATION', `not a target name: ${JSON.stringify(name)}`);
  const file = path.join(dir, `${name}.${createHash('sha256').update(yaml).digest('hex').slice(0, 12)}.yaml`);
  const same = await readFile(file, 'utf8').then(
    (t) => t === yaml,
    () => false,
  );
  if (same) return file;
  await mkdir(dir, { recursive: true });
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, yaml, { mode: 0o600 });
    await rename(tmp, file);
  } finally {
    await rm(tmp, { force: true });
  }
  return file;
}

/**
 * The target file an experiment's `target:` names, as an absolute path — the one function a run
 * needs before `loadTarget`: a path (relative to `cwd`) is itself, a name of a shipped target file
 * (`shop` → targets/shop.yaml) is that file, and any other name is a target saved in the console,
 * written out by {@link materializeSavedTarget}. NOT_FOUND at `target` when it is none of them.
 */
export async function resolveTargetFile(db: TDb, ref: string, o: { cwd?: string; dataDir?: string } = {}): Promise<string> {
  if (isTargetPath(ref)) return path.resolve(o.cwd ?? process.cwd(), ref);
  const shipped = targetPath(ref);
  if (existsSync(shipped)) return shipped;
  return materializeSavedTarget(ref, await resolveSavedTarget(db, ref), savedTargetsDir(o.dataDir));
}

function rowToSaved(r: typeof savedTargets.$inferSelect): TSavedTarget {
  return { name: r.name, yaml: r.yaml, createdBy: r.createdBy, updatedBy: r.updatedBy, createdAt: r.createdAt, updatedAt: r.updatedAt };
}

/** The experiments saved in the platform database that name `name` as their target. */
async function experimentsNaming(db: TDb, names: string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  if (!names.length) return out;
  const target = sql<string>`${experiments.definition}->>'target'`;
  const rows = await db.select({ id: experiments.id, target }).from(experiments).where(inArray(target, names)).orderBy(experiments.id);
  for (const r of rows) out.set(r.target, [...(out.get(r.target) ?? []), r.id]);
  return out;
}

/** Every saved target as the Targets page lists it (a row whose text no longer validates carries its error, as a broken file does). */
export async function listSavedTargets(db: TDb): Promise<TTargetSummary[]> {
  const rows = await db.select().from(savedTargets).orderBy(savedTargets.name);
  const naming = await experimentsNaming(
    db,
    rows.map((r) => r.name),
  );
  return Promise.all(rows.map(async (r) => summarize(r, naming.get(r.name) ?? [])));
}

async function summarize(r: typeof savedTargets.$inferSelect, names: string[]): Promise<TTargetSummary> {
  const { yaml: _yaml, name, ...by } = rowToSaved(r);
  return {
    id: name,
    file: '',
    path: '',
    ...(await validatedTarget(async () => parseTarget(r.yaml, name))),
    experiments: names.map((n) => ({ name: n, path: '', shipped: true })),
    saved: by,
  };
}

/** One saved target, as listed; NOT_FOUND when there is none of that name. */
export async function getSavedTargetSummary(db: TDb, name: string): Promise<TTargetSummary> {
  const [row] = SAVED_TARGET_NAME.test(name) ? await db.select().from(savedTargets).where(eq(savedTargets.name, name)).limit(1) : [];
  if (!row) throw notFound(name, await savedTargetNames(db));
  return summarize(row, (await experimentsNaming(db, [name])).get(name) ?? []);
}

/**
 * The text of a saved target (for the editor) with who saved it, not parsed: a text that no longer
 * validates (a field the schema has since changed) must still open in the editor to be fixed.
 * NOT_FOUND when none is saved as `name`; CONFLICT when `name` is a target file (the console edits
 * and deletes only what it saved).
 */
export async function getSavedTarget(db: TDb, name: string, o: TSavedTargetOptions = {}): Promise<TSavedTarget> {
  const [row] = SAVED_TARGET_NAME.test(name) ? await db.select().from(savedTargets).where(eq(savedTargets.name, name)).limit(1) : [];
  if (row) return rowToSaved(row);
  if ((await targetFileIds(o.root ?? REPO_ROOT)).includes(name))
    throw new AppError('CONFLICT', `${name} is a target file: the console edits and deletes only the targets saved in it (New target saves a copy)`);
  throw notFound(name, await savedTargetNames(db));
}

/** Names the console's own pages and routes take (`/targets/new`, `/api/targets/validate`). */
const RESERVED = ['new', 'validate'];

function nameIssue(yaml: string, message: string) {
  const line = yamlLineOf(yaml, ['name']);
  return { path: 'name', message, ...(line ? { line } : {}) };
}

/**
 * Validate a target's YAML as the console saves it: the schema (each issue at its field and line),
 * then a name no shipped target file has (`shop` names targets/shop.yaml: an experiment naming it
 * could not reach a saved one).
 */
export async function validateSavedTarget(yaml: string, o: TSavedTargetOptions = {}): Promise<TTarget> {
  const t = parseTarget(yaml, 'target');
  if (RESERVED.includes(t.name))
    throw new AppError('VALIDATION', `target: the name ${t.name} is reserved`, {
      issues: [nameIssue(yaml, `"${t.name}" is a page of the console (/targets/${t.name}): choose another name`)],
    });
  const files = new Set([...(await targetFileIds(o.root ?? REPO_ROOT)), ...(await targetFileIds(REPO_ROOT))]);
  if (files.has(t.name))
    throw new AppError('VALIDATION', `target: the name ${t.name} is a shipped target file's`, {
      issues: [nameIssue(yaml, `"${t.name}" is the name of a shipped target file (${[...files].join(', ')}): choose another name`)],
    });
  return t;
}

/** Save a new target; a name already saved is 409 at `name` (creating never overwrites: editing is {@link updateSavedTarget}). */
export async function createSavedTarget(db: TDb, yaml: string, by: string, o: TSavedTargetOptions = {}): Promise<TSavedTarget & { target: TTarget }> {
  const t = await validateSavedTarget(yaml, o);
  const [row] = await db
    .insert(savedTargets)
    .values({ name: t.name, yaml, createdBy: by, updatedBy: by })
    .onConflictDoNothing({ target: savedTargets.name })
    .returning();
  if (!row)
    throw new AppError('CONFLICT', `a target named ${t.name} is already saved`, {
      issues: [nameIssue(yaml, `"${t.name}" is taken: choose another name, or edit ${t.name}`)],
    });
  return { ...rowToSaved(row), target: t };
}

/**
 * Save an edited version of the saved target `name`. The name must stay (experiments name the
 * target by it); an invalid text is refused before anything is written.
 */
export async function updateSavedTarget(
  db: TDb,
  name: string,
  yaml: string,
  by: string,
  o: TSavedTargetOptions = {},
): Promise<TSavedTarget & { target: TTarget }> {
  await getSavedTarget(db, name, o);
  const t = await validateSavedTarget(yaml, o);
  if (t.name !== name)
    throw new AppError('VALIDATION', 'target: the name cannot change', {
      issues: [nameIssue(yaml, `must stay "${name}" when editing: experiments name the target by it (save a new target to rename)`)],
    });
  const [row] = await db.update(savedTargets).set({ yaml, updatedBy: by, updatedAt: new Date() }).where(eq(savedTargets.name, name)).returning();
  if (!row) throw notFound(name, await savedTargetNames(db));
  return { ...rowToSaved(row), target: t };
}

/** Delete a saved target, unless an experiment saved in the console still names it (named in the refusal). */
export async function deleteSavedTarget(db: TDb, name: string, o: TSavedTargetOptions = {}): Promise<{ ok: true; name: string }> {
  await getSavedTarget(db, name, o);
  const users = (await experimentsNaming(db, [name])).get(name) ?? [];
  if (users.length)
    throw new AppError(
      'CONFLICT',
      `${name} is the target of experiment${users.length > 1 ? 's' : ''} ${users.join(', ')}: change or delete ${users.length > 1 ? 'them' : 'it'} first`,
    );
  await db.delete(savedTargets).where(eq(savedTargets.name, name));
  return { ok: true, name };
}
