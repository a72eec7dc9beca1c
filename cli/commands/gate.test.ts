/** Bad input to run/gate/report is refused before anything starts: field-named AppErrors (CLI exit 2). */
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Command } from 'commander';
import { register as registerGate } from './gate.js';
import { register as registerRun } from './run.js';
import { register as registerReport } from './report.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'fl-gate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function program(): Command {
  const p = new Command('faultline').exitOverride();
  registerGate(p);
  registerRun(p);
  registerReport(p);
  return p;
}
const run = (...args: string[]) => program().parseAsync(['node', 'faultline', ...args]);

describe('CLI bad input', () => {
  it('gate without --suite names the flag', async () => {
    await expect(run('gate', '--report-dir', dir)).rejects.toMatchObject({
      code: 'VALIDATION',
      exitCode: 2,
      issues: [expect.objectContaining({ path: 'suite', message: '--suite is required' })],
    });
  });

  it('gate with a suite listing a broken experiment names file, field and line', async () => {
    writeFileSync(path.join(dir, 'bad.yaml'), 'name: bad\ndescription: x\nload:\n  scenario: checkout-mix\n  rate: -3\nsteady_state:\n  slos: []\n');
    writeFileSync(path.join(dir, 'suite.yaml'), 'name: s\ndescription: d\nexperiments:\n  - ./bad.yaml\n');
    const err = await run('gate', '--suite', path.join(dir, 'suite.yaml'), '--report-dir', dir).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'VALIDATION', exitCode: 2 });
    const issues = (err as { issues: { path: string; line?: number }[] }).issues;
    expect(issues).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: expect.stringContaining('load.rate'), line: 5 }),
        expect.objectContaining({ path: expect.stringContaining('steady_state.slos'), line: 7 }),
      ]),
    );
  });

  it('run with a missing file is NOT_FOUND, with a bad file names the field', async () => {
    await expect(run('run', path.join(dir, 'nope.yaml'))).rejects.toMatchObject({ code: 'NOT_FOUND', exitCode: 2 });
    writeFileSync(
      path.join(dir, 'e.yaml'),
      'name: e\ndescription: x\nload: {scenario: checkout-mix}\nsteady_state: {slos: [{name: a, route: GET /products, sli: latency, objective: 99}]}\n',
    );
    await expect(run('run', path.join(dir, 'e.yaml'))).rejects.toMatchObject({
      code: 'VALIDATION',
      issues: [expect.objectContaining({ path: 'steady_state.slos.0.threshold_ms' })],
    });
  });

  it('run refuses bad --instances / --bugs before starting anything', async () => {
    const { checkShopFlags } = await import('../run-env.js');
    expect(() => checkShopFlags({ instances: 'payments=2', bugs: 'double-charge' })).not.toThrow();
    expect(() => checkShopFlags({ instances: 'payments=99' })).toThrow(
      expect.objectContaining({ code: 'VALIDATION', exitCode: 2, issues: [expect.objectContaining({ path: 'instances.payments' })] }),
    );
    expect(() => checkShopFlags({ bugs: 'nosuch' })).toThrow(
      expect.objectContaining({ code: 'VALIDATION', issues: [expect.objectContaining({ path: 'bugs' })] }),
    );
  });

  it('Redis down is one UNAVAILABLE error naming REDIS_URL and the reason (worker, run, gate, up)', async () => {
    const { assertRedisReachable } = await import('../run-env.js');
    await expect(assertRedisReachable('redis://127.0.0.1:1')).rejects.toMatchObject({
      code: 'UNAVAILABLE',
      exitCode: 2,
      message: expect.stringMatching(/REDIS_URL.*ECONNREFUSED/),
    });
  });

  it('report refuses a malformed run id and an unknown format', async () => {
    await expect(run('report', 'abc')).rejects.toMatchObject({ code: 'VALIDATION', issues: [expect.objectContaining({ path: 'runId' })] });
    await expect(run('report', '123', '--format', 'pdf')).rejects.toMatchObject({ code: 'VALIDATION', issues: [expect.objectContaining({ path: 'format' })] });
  });
});
