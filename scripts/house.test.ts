/**
 * The checks that keep the house in order (issue 11), run by `npm test`:
 * the layer and cycle rules of DESIGN.md (.dependency-cruiser.cjs), the lint
 * rule set (eslint.config.mjs) and the format (.prettierrc.json). Each test
 * fails with the offending files named, so a red line says what to fix.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name: string) => path.join(root, 'node_modules', '.bin', name);
const FOLDERS = [
  'app',
  'cli',
  'core',
  'db',
  'chaos',
  'loadtests',
  'experiments',
  'targets',
  'workers',
  'dashboards',
  'shop',
  'bench',
  'e2e',
  'scripts',
  'examples',
];

/** Run a checker that exits non-zero on findings; return its stdout either way. */
async function output(cmd: string, args: string[]): Promise<string> {
  try {
    const r = await run(bin(cmd), args, { cwd: root, maxBuffer: 64 * 1024 * 1024 });
    return r.stdout;
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; code?: number };
    if (typeof err.stdout === 'string' && err.stdout.length > 0) return err.stdout;
    throw new Error(`${cmd} failed (exit ${err.code}): ${err.stderr ?? e}`);
  }
}

async function existing(folders: string[]): Promise<string[]> {
  const { existsSync } = await import('node:fs');
  return folders.filter((f) => existsSync(path.join(root, f)));
}

describe('house rules', () => {
  it('layers: no folder imports across the DESIGN.md layering, no import cycles', async () => {
    const out = await output('depcruise', ['--config', '.dependency-cruiser.cjs', '--output-type', 'json', ...(await existing(FOLDERS))]);
    const r = JSON.parse(out) as {
      summary: { violations: { rule: { name: string }; from: string; to: string; cycle?: { name: string }[] }[]; totalCruised: number };
    };
    const lines = r.summary.violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}${v.cycle ? ` (cycle ${v.cycle.map((c) => c.name).join(' → ')})` : ''}`);
    expect(r.summary.totalCruised).toBeGreaterThan(100);
    expect(lines).toEqual([]);
  }, 300_000);

  it('lint: the agreed eslint rule set reports nothing', async () => {
    const out = await output('eslint', ['--format', 'json', '.']);
    const files = JSON.parse(out) as { filePath: string; messages: { line: number; ruleId: string | null; message: string }[] }[];
    const problems = files.flatMap((f) => f.messages.map((m) => `${path.relative(root, f.filePath)}:${m.line} ${m.ruleId ?? 'parse'}: ${m.message}`));
    expect(files.length).toBeGreaterThan(100);
    expect(problems).toEqual([]);
  }, 300_000);

  it('format: every source file is as prettier writes it', async () => {
    const out = await output('prettier', ['--list-different', '**/*.{ts,tsx,mjs,cjs,css}']);
    expect(out.split('\n').filter(Boolean)).toEqual([]);
  }, 300_000);
});
