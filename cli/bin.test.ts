/** The installed `faultline` is a symlink to cli/bin.mjs (npx, npm link, the Dockerfile): it must run, not exit silently. */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const dir = mkdtempSync(path.join(os.tmpdir(), 'fl-bin-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(bin: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { cwd: dir }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('faultline through a symlinked bin', () => {
  it('prints help and maps bad input to exit 2', async () => {
    const link = path.join(dir, 'faultline');
    symlinkSync(path.join(import.meta.dirname, 'bin.mjs'), link);
    const help = await run(link, ['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Usage: faultline/);
    const version = await run(link, ['--version']);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    const unknown = await run(link, ['load', 'smoke', '--bogus']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr.trim().split('\n')).toEqual(["error: unknown option '--bogus'", '(add --help for usage)']);
    const bad = await run(link, ['report', 'abc']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/runId: a run id is a number/);
  }, 60_000);

  it('report of a run that does not exist: one message, exit 2, no Redis crash after it', async () => {
    const r = await run(path.join(import.meta.dirname, 'bin.mjs'), ['report', '999999999']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^faultline: /);
    expect(r.stderr).not.toMatch(/Connection is closed|    at /);
  }, 60_000);
});
