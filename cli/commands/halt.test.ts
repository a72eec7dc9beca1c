/**
 * `faultline halt` end to end in-process against a real platform database
 * and Redis (proxy and supervisor on closed ports): engage stores who and
 * why and says which components it could not reach (exit 2), `--status`
 * shows it, `faults apply` is refused with exit 3 while engaged, `--release`
 * clears it. (The command closes its pool when done, as the CLI does: the
 * assertions read through a fresh one.)
 */
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { leverState } from '../../chaos/index.js';
import { getDb } from '../../db/client.js';
import { createTestDatabase } from '../../db/testing.js';
import { register as registerFaults } from './faults.js';
import { register as registerHalt } from './halt.js';

let t: Awaited<ReturnType<typeof createTestDatabase>>;
const prevExit = process.exitCode;

beforeAll(async () => {
  t = await createTestDatabase();
  process.env.FAULTLINE_PREFIX = `fltest-halt-${Math.random().toString(36).slice(2, 10)}`;
});
afterAll(async () => {
  process.exitCode = prevExit;
  await t?.drop();
});

function program(): Command {
  const p = new Command('faultline').exitOverride();
  registerHalt(p);
  registerFaults(p);
  return p;
}

/** Run one command; its stdout and the exit code it set. */
async function cli(...args: string[]): Promise<{ out: string; exitCode: number }> {
  const flags = ['--database-url', t.url, '--toxiproxy-url', 'http://127.0.0.1:9', '--supervisor-url', 'http://127.0.0.1:9'];
  let out = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => {
    out += String(s);
    return true;
  });
  process.exitCode = 0;
  try {
    await program().parseAsync(['node', 'faultline', ...args, ...flags]);
  } finally {
    spy.mockRestore();
  }
  const exitCode = Number(process.exitCode ?? 0);
  process.exitCode = 0;
  return { out, exitCode };
}

describe('faultline halt', () => {
  it('engages with --reason/--by, shows --status, refuses faults apply (exit 3), releases', async () => {
    let r = await cli('halt', '--status');
    expect(r.out).toContain('safety lever released');
    expect(r.out).toContain('the lever was never engaged');

    r = await cli('halt', '--reason', 'payments on fire', '--by', 'alice');
    expect(r.out).toContain('safety lever ENGAGED by alice');
    expect(r.out).toContain('payments on fire');
    expect(r.out).toMatch(/proxy: fault proxy at http:\/\/127\.0\.0\.1:9 is unreachable/);
    expect(r.exitCode).toBe(2);
    expect(await leverState(getDb(t.url))).toMatchObject({ engaged: true, by: 'alice', reason: 'payments on fire' });

    r = await cli('halt', '--status', '--json');
    expect(JSON.parse(r.out)).toMatchObject({
      lever: { engaged: true, by: 'alice' },
      history: [{ action: 'engaged', by: 'alice', reason: 'payments on fire' }],
    });

    const refused = await cli('faults', 'apply', 'latency', 'orders->payments', 'latencyMs=100').catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'HALTED', exitCode: 3, message: expect.stringContaining('by alice') });

    r = await cli('halt', '--release', '--by', 'bob', '--reason', 'fixed');
    expect(r.out).toContain('safety lever released by bob; it was engaged by alice');
    expect(r.exitCode).toBe(0);
    expect(await leverState(getDb(t.url))).toEqual({ engaged: false });
    r = await cli('halt', '--release', '--by', 'bob');
    expect(r.out).toContain('was not engaged');
  });

  it('--by defaults to cli:<OS user>; conflicting or bad flags are named', async () => {
    const r = await cli('halt', '--json');
    expect(JSON.parse(r.out).lever.by).toMatch(/^cli:./);
    expect(JSON.parse(r.out).lever.reason).toBe('halted from the command line');
    await cli('halt', '--release');
    await expect(cli('halt', '--release', '--status')).rejects.toMatchObject({ code: 'VALIDATION', issues: [expect.objectContaining({ path: '--status' })] });
    await expect(cli('halt', '--redis-url', 'nope')).rejects.toMatchObject({ code: 'VALIDATION', issues: [expect.objectContaining({ path: '--redis-url' })] });
    await expect(cli('halt', '--reason', '   ')).rejects.toMatchObject({ code: 'VALIDATION', issues: [expect.objectContaining({ path: 'reason' })] });
  });
});
