/**
 * Reading experiment and suite files from disk. Parsing goes through
 * `parseYamlWith`, so every problem names the field and its line.
 */
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AppError } from '../core/errors.js';
import { parseYamlWith } from '../core/validate.js';
import { ExperimentSchema, isTargetFile, SuiteSchema, type TExperiment, type TSuite } from './schema.js';
import { checkExperimentTarget, resolveExperimentRefs } from './target-file.js';

/** Folder of the experiments shipped with faultline. */
export const EXPERIMENTS_DIR = path.dirname(fileURLToPath(import.meta.url));

async function readText(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new AppError('NOT_FOUND', `${what} not found: ${file}`);
    throw new AppError('VALIDATION', `cannot read ${what} ${file}: ${(e as Error).message}`);
  }
}

/** Validate experiment YAML text (console upload, API body). */
export function parseExperiment(text: string, filename = 'experiment.yaml'): TExperiment {
  return parseYamlWith(ExperimentSchema, text, filename);
}

/**
 * Read and validate one experiment file. A target file (`target: ../target.yaml`)
 * and a scenario file are resolved against the experiment's folder (the
 * returned experiment holds absolute paths), and the experiment is checked
 * against the target: every fault's edge or instance, breakers, invariants.
 */
export async function loadExperimentFile(file: string): Promise<TExperiment> {
  const text = await readText(file, 'experiment file');
  const e = resolveExperimentRefs(parseExperiment(text, file), path.dirname(path.resolve(file)));
  if (isTargetFile(e.target)) await checkExperimentTarget(e, file, text);
  return e;
}

/** Parse suite YAML text. */
export function parseSuite(text: string, filename = 'suite.yaml'): TSuite {
  return parseYamlWith(SuiteSchema, text, filename);
}

/**
 * Where a suite entry points: a bare name is `<experimentsDir>/<name>.yaml`
 * (the suite lives in `<experimentsDir>/suites/`); anything with a slash or a
 * `.yaml`/`.yml` ending is a path relative to the suite file.
 */
export function resolveSuiteEntry(entry: string, suiteFile: string): string {
  if (entry.includes('/') || /\.ya?ml$/.test(entry)) return path.resolve(path.dirname(suiteFile), entry);
  return path.resolve(path.dirname(suiteFile), '..', `${entry}.yaml`);
}

export interface TLoadedSuite {
  suite: TSuite;
  experiments: { file: string; experiment: TExperiment }[];
}

/**
 * Read a suite and every experiment it lists. All broken experiments are
 * reported together (one AppError, issues prefixed by the file), so a user
 * fixes a suite in one pass.
 */
export async function loadSuiteFile(file: string): Promise<TLoadedSuite> {
  const suite = parseSuite(await readText(file, 'suite file'), file);
  const experiments: TLoadedSuite['experiments'] = [];
  const issues: AppError['issues'] = [];
  for (const [i, entry] of suite.experiments.entries()) {
    const expFile = resolveSuiteEntry(entry, file);
    try {
      experiments.push({ file: expFile, experiment: await loadExperimentFile(expFile) });
    } catch (e) {
      if (!(e instanceof AppError)) throw e;
      if (e.issues.length === 0) issues.push({ path: `experiments.${i}`, message: e.message });
      for (const is of e.issues) issues.push({ path: `experiments.${i} (${path.basename(expFile)}) ${is.path}`.trim(), message: is.message, line: is.line });
    }
  }
  const names = new Map<string, number>();
  experiments.forEach((x, i) => {
    if (names.has(x.experiment.name)) issues.push({ path: `experiments.${i}`, message: `experiment "${x.experiment.name}" listed twice` });
    names.set(x.experiment.name, i);
  });
  if (issues.length) throw new AppError('VALIDATION', `${file}: invalid suite`, { issues });
  return { suite, experiments };
}

/** Every experiment file shipped in `dir` (not the suites), validated. */
export async function listExperiments(dir: string = EXPERIMENTS_DIR): Promise<{ file: string; experiment: TExperiment }[]> {
  const files = (await readdir(dir)).filter((f) => /\.ya?ml$/.test(f)).sort();
  const out: { file: string; experiment: TExperiment }[] = [];
  for (const f of files) out.push({ file: path.join(dir, f), experiment: await loadExperimentFile(path.join(dir, f)) });
  return out;
}

/** The shipped experiment that is meant to catch each bug switch. */
export async function experimentsDetecting(dir: string = EXPERIMENTS_DIR): Promise<Map<string, string[]>> {
  const m = new Map<string, string[]>();
  for (const { experiment } of await listExperiments(dir)) for (const b of experiment.detects) m.set(b, [...(m.get(b) ?? []), experiment.name]);
  return m;
}
