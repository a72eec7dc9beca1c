/**
 * Reading target files: `shop` (a name) is `targets/shop.yaml`; anything with
 * a slash or a .yaml ending is a path. Errors name the field and its line.
 */
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AppError } from '../core/errors.js';
import { parseYamlWith } from '../core/validate.js';
import { parseWithEnv, TargetSchema, type TEnv, type TTarget } from './schema.js';

/** Where the shipped targets live. */
export const TARGETS_DIR = path.dirname(fileURLToPath(import.meta.url));
/** The bundled shop as a target file: runs naming it need the shop faultline starts (`faultline run`/`gate`). */
export const SHOP_TARGET_FILE = path.join(TARGETS_DIR, 'shop.yaml');

/** True when `ref` is a file path rather than the name of a shipped target. */
export function isTargetPath(ref: string): boolean {
  return ref.includes('/') || ref.includes(path.sep) || /\.ya?ml$/.test(ref);
}

/** Path of a target by name or path (relative paths resolve against `cwd`). */
export function targetPath(ref: string, cwd = process.cwd()): string {
  return isTargetPath(ref) ? path.resolve(cwd, ref) : path.join(TARGETS_DIR, `${ref}.yaml`);
}

/** Parse target YAML text (its `${VAR}`s from `env`); AppError('VALIDATION') with field paths and lines. */
export function parseTarget(text: string, filename = 'target', env: TEnv = process.env): TTarget {
  return parseWithEnv(env, () => parseYamlWith(TargetSchema, text, filename));
}

/** Load and validate a target by name (`shop`) or path (`targets/mine.yaml`), its `${VAR}`s from `env`. */
export async function loadTarget(ref: string, cwd = process.cwd(), env: TEnv = process.env): Promise<{ target: TTarget; file: string; text: string }> {
  const file = targetPath(ref, cwd);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    const shipped = (await readdir(TARGETS_DIR)).filter((f) => f.endsWith('.yaml')).map((f) => f.replace(/\.yaml$/, ''));
    throw new AppError('NOT_FOUND', `target ${ref} not found (${file})`, {
      issues: [
        {
          path: 'target',
          message: `no target file at ${file}; shipped targets: ${shipped.join(', ') || 'none'} (a target saved in the console is run from the console: the CLI reads files, so save its YAML as a file and name its path)`,
        },
      ],
    });
  }
  return { target: parseTarget(text, path.relative(cwd, file) || file, env), file, text };
}
