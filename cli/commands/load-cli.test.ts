/** `faultline load` end to end: a child process against the fake shop. */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeShop, type TFakeShop } from '../../loadtests/test/fake-shop.js';

const ROOT = path.join(import.meta.dirname, '..', '..');
let shop: TFakeShop;
let dir: string;

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', path.join(import.meta.dirname, '..', 'test', 'load-cli-harness.ts'), 'load', ...args],
      { cwd: ROOT, env: { ...process.env, K6_BIN: '', PATH: path.dirname(process.execPath) } },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

beforeAll(async () => {
  shop = await startFakeShop();
  dir = mkdtempSync(path.join(tmpdir(), 'faultline-loadcli-'));
});
afterAll(async () => {
  await shop.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('faultline load', () => {
  it('runs a scenario with progress, prints a k6-style summary and exits 0', async () => {
    const out = path.join(dir, 'r.json');
    const r = await cli(['loadtests/scenarios/smoke.yaml', '--engine', 'builtin', '--base-url', shop.url, '--rate', '10', '--duration', '3s', '--json', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/█ THRESHOLDS/);
    expect(r.stdout).toMatch(/http_req_duration\.+: avg=/);
    expect(r.stderr).toMatch(/rate \d+\/10\/s {2}p95 [\d.]+ms p99 [\d.]+ms {2}corrected p95/);
    const res = JSON.parse(readFileSync(out, 'utf8'));
    expect(res.engine).toBe('builtin');
    expect(res.seconds.length).toBeGreaterThanOrEqual(3);
    expect(res.metrics.iterations.values.count + (res.metrics.dropped_iterations?.values.count ?? 0)).toBe(30);
    expect(res.history.some((e: { f: string; type: string; value: { orderId?: string } }) => e.f === 'checkout' && e.type === 'ok' && e.value.orderId)).toBe(
      true,
    );
  }, 90_000);

  it('exits 99 when a threshold is crossed (order status answers 503)', async () => {
    const file = path.join(dir, 's.yaml');
    writeFileSync(
      file,
      `name: s
setup: { users: 1, products: 1 }
mix: { checkout: 1, order_status: 3 }
load: { executor: constant-arrival-rate, rate: 20, duration: 2s, preAllocatedVUs: 5 }
thresholds:
  http_req_failed: ['rate<0.01']
`,
    );
    const failing = await startFakeShop({ failWith: (m, p) => (p.startsWith('/orders/') && m === 'GET' ? 503 : undefined) });
    const r = await cli([file, '--base-url', failing.url, '--quiet']);
    await failing.close();
    expect(r.code).toBe(99);
    expect(r.stdout).toMatch(/✗ 'rate<0.01'/);
    expect(r.stdout).toMatch(/exit status 99/);
  }, 60_000);

  it('bad flags and bad files: a clear message naming the field, exit 2', async () => {
    const a = await cli(['loadtests/scenarios/smoke.yaml', '--rate', 'lots']);
    expect(a.code).toBe(2);
    expect(a.stderr).toMatch(/rate: "lots" is not a positive whole number/);
    const b = await cli(['loadtests/scenarios/spike.yaml', '--duration', '10s']);
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/duration: --duration applies to constant executors/);
    const bad = path.join(dir, 'bad.yaml');
    writeFileSync(bad, 'name: x\nmix: { browse: 1 }\nload:\n  executor: constant-vus\n  vus: 0\n  duration: 1s\n');
    const c = await cli([bad]);
    expect(c.code).toBe(2);
    expect(c.stderr).toMatch(/line 5: load\.vus/);
    expect(c.stderr).not.toMatch(/at .*\.ts:\d+/);
    const d = await cli(['nope.yaml']);
    expect(d.code).toBe(2);
    expect(d.stderr).toMatch(/scenario not found: nope\.yaml/);
    expect(d.stderr).toMatch(/shipped: browse, checkout-heavy, checkout-mix/);
  }, 60_000);

  it('exits 107 when setup cannot reach the shop', async () => {
    const r = await cli(['loadtests/scenarios/smoke.yaml', '--base-url', 'http://127.0.0.1:1', '--duration', '1s']);
    expect(r.code).toBe(107);
    expect(r.stderr).toMatch(/setup failed against http:\/\/127\.0\.0\.1:1/);
  }, 60_000);
});
