/**
 * `faultline faults apply|list|remove` and `faultline halt` as a user runs
 * them (the real CLI in a child process) against the fault proxy.
 */
import http from 'node:http';
import { execFile } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Toxiproxy } from 'toxiproxy-node-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../db/testing.js';
import { startFaultProxy, type TFaultProxy } from '../../chaos/index.js';
import { ToxiproxyApi } from '../../chaos/index.js';
import { formatHalt } from './halt.js';
import { parseDuration, parseParamArgs } from './faults.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
let fp: TFaultProxy;
let ledger: Awaited<ReturnType<typeof createTestDatabase>>;
let upstream: http.Server;

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', path.join(root, 'cli', 'main.ts'), ...args],
      {
        cwd: root,
        timeout: 30_000,
        env: { ...process.env, TOXIPROXY_URL: fp.url, SUPERVISOR_URL: 'http://127.0.0.1:9', DATABASE_URL: ledger.url },
      },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

beforeAll(async () => {
  upstream = http.createServer((_req, res) => res.end('ok'));
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', () => r()));
  fp = await startFaultProxy({ host: '127.0.0.1', port: 0 });
  ledger = await createTestDatabase();
  await new Toxiproxy(fp.url).populate([
    { name: 'orders->payments', listen: '127.0.0.1:0', upstream: `127.0.0.1:${(upstream.address() as AddressInfo).port}` },
  ]);
});

afterAll(async () => {
  await fp?.close();
  await ledger?.drop();
  await new Promise((r) => upstream?.close(r));
});

describe('faultline faults / halt', () => {
  it('applies, lists and removes a fault, and halt reports what it removed', async () => {
    const applied = await cli(['faults', 'apply', 'latency', 'orders->payments', 'latencyMs=250', 'stream=both', '--for', '5m']);
    expect(applied.stderr).not.toContain('Error');
    expect(applied.code).toBe(0);
    const id = /^(flt_[0-9a-f]+)/.exec(applied.stdout)?.[1];
    expect(id, applied.stdout).toBeDefined();
    const toxics = [...(await new ToxiproxyApi(fp.url).list()).values()].flatMap((p) => p.toxics.map((t) => t.name)).sort();
    expect(toxics).toEqual([`${id}_downstream`, `${id}_upstream`]);

    const list = await cli(['faults', 'list']);
    expect(list.stdout).toContain(id!);
    expect(list.stdout).toContain('orders->payments');

    const removed = await cli(['faults', 'remove', id!]);
    expect(removed.code).toBe(0);
    expect(removed.stdout).toContain('2 toxic(s)');
    expect((await cli(['faults', 'list'])).stdout.trim()).toBe('no faults');
    const all = await cli(['faults', 'list', '--all']);
    expect(all.stdout).toMatch(new RegExp(`${id}\\s+latency\\s+orders->payments\\s+removed`));

    const again = await cli(['faults', 'apply', 'edge_down', 'orders->payments']);
    expect(again.code).toBe(0);
    const halt = await cli(['halt', '--json']);
    // halt engages the safety lever: the sweep's report is under `halt`
    const { halt: report, lever } = JSON.parse(halt.stdout) as {
      lever: { engaged: boolean };
      halt: { removed: { type: string }[]; proxiesEnabled: string[]; errors: { component: string }[] };
    };
    expect(lever.engaged).toBe(true);
    expect(report.removed.map((r) => r.type)).toEqual(['edge_down']);
    expect(report.proxiesEnabled).toEqual(['orders->payments']);
    // No supervisor runs here: reported, and the exit code says so.
    expect(report.errors.map((e) => e.component)).toEqual(['supervisor']);
    expect(halt.code).toBe(2);
    expect((await new ToxiproxyApi(fp.url).list()).get('orders->payments')?.enabled).toBe(true);
    // engaged: a fault by hand is refused (exit 3) until the lever is released
    const refused = await cli(['faults', 'apply', 'edge_down', 'orders->payments']);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain('the safety lever is engaged');
    expect((await cli(['halt', '--release'])).code).toBe(0);
    // ten CLI processes, each compiling the CLI on a busy machine
  }, 180_000);

  it('rejects bad input with field names and exit code 2, never a stack trace', async () => {
    const bad = await cli(['faults', 'apply', 'latency', 'orders->payments', 'latencyMs=-5', 'toxicity=2']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('params.latencyMs: latencyMs must be >= 0');
    expect(bad.stderr).toContain('params.toxicity: toxicity must be <= 1');
    expect(bad.stderr).not.toMatch(/\n\s+at /);
    const unknown = await cli(['faults', 'apply', 'latency', 'orders->billing', 'latencyMs=5']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('target: unknown edge "orders->billing"');
  });
});

describe('CLI helpers', () => {
  it('parses durations and key=value params', () => {
    expect(parseDuration('500ms', '--for')).toBe(500);
    expect(parseDuration('1.5s', '--for')).toBe(1500);
    expect(parseDuration('10m', '--for')).toBe(600_000);
    expect(() => parseDuration('soon', '--for')).toThrow(/invalid --for/);
    expect(parseParamArgs(['latencyMs=200', 'stream=both', 'x=true'])).toEqual({ latencyMs: 200, stream: 'both', x: true });
    expect(() => parseParamArgs(['latencyMs'])).toThrow(/invalid fault parameter/);
  });

  it('formats a halt report with every section', () => {
    const text = formatHalt({
      removed: [{ id: 'flt_1', type: 'pause', target: 'payments-0', runId: 'r1' }],
      toxics: [{ proxy: 'orders->payments', toxic: 'flt_2_downstream', type: 'latency' }],
      proxiesEnabled: ['orders->postgres'],
      instancesResumed: ['payments-0'],
      instancesStarted: [],
      httpFaults: ['h1'],
      errors: [],
      warnings: [],
      durationMs: 12.5,
    });
    expect(text).toContain('halt finished in 12.5 ms');
    expect(text).toContain('flt_1  pause');
    expect(text).toContain('orders->payments: flt_2_downstream (latency)');
    expect(text).toContain('proxies re-enabled: orders->postgres');
    expect(text).toContain('held instances started: none');
  });
});
