/**
 * The k6 adapter's process plumbing, with a stand-in `k6` executable that
 * replays the recorded k6 v1.3.0 output (k6 itself cannot be installed on
 * the build machines): arguments, tailing --out json into seconds, history
 * from JSON logs, the handleSummary file, and k6's exit status.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveK6Bin, runK6 } from '../k6-adapter/run.js';
import { parseScenario } from '../scenario.js';
import type { THistoryEvent, TLoadSecond } from '../types.js';

// shared/ lies beside the checkout (as in CI's fresh clone)
const FIX = path.resolve(import.meta.dirname, '../../../shared/fixtures/k6');
let dir: string;
let fakeK6: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'faultline-fakek6-'));
  fakeK6 = path.join(dir, 'k6');
  writeFileSync(
    fakeK6,
    `#!${process.execPath}
const fs = require('node:fs');
const args = process.argv.slice(2);
const env = {};
for (let i = 0; i < args.length; i++) if (args[i] === '-e') { const [k, ...v] = args[++i].split('='); env[k] = v.join('='); }
const out = args[args.indexOf('--out') + 1].replace(/^json=/, '');
fs.writeFileSync(process.env.FAKE_K6_ARGS, JSON.stringify({ args, env, scenario: JSON.parse(fs.readFileSync(env.SCENARIO, 'utf8')) }));
const lines = fs.readFileSync(${JSON.stringify(`${FIX}/points.jsonl`)}, 'utf8').split('\\n');
const hist = (e) => process.stderr.write(JSON.stringify({ level: 'info', msg: 'faultline.history ' + JSON.stringify(e), source: 'console', time: new Date().toISOString() }) + '\\n');
let i = 0;
const step = () => {
  fs.appendFileSync(out, lines.slice(i, i + 800).join('\\n') + (i + 800 < lines.length ? '\\n' : ''));
  i += 800;
  hist({ type: 'invoke', f: 'checkout', process: 1, time: Date.now(), value: { idempotencyKey: 'k' + i } });
  hist({ type: 'ok', f: 'checkout', process: 1, time: Date.now(), value: { idempotencyKey: 'k' + i, orderId: String(i) } });
  process.stderr.write(JSON.stringify({ level: 'warning', msg: 'Insufficient VUs' }) + '\\n');
  if (i < lines.length) setTimeout(step, 300);
  else {
    fs.writeFileSync(env.SUMMARY_PATH, fs.readFileSync(${JSON.stringify(`${FIX}/handle-summary-data.json`)}));
    process.exit(Number(fs.readFileSync(${JSON.stringify(`${FIX}/exit-code.txt`)}, 'utf8')));
  }
};
step();
`,
  );
  chmodSync(fakeK6, 0o755);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const scenario = parseScenario(`name: t
mix: { browse: 1 }
load: { executor: constant-arrival-rate, rate: 40, duration: 4s, preAllocatedVUs: 5, maxVUs: 20 }
thresholds:
  http_req_duration: ['p(95)<100']
  http_req_corrected_duration: ['p(95)<100']
`);

describe('k6 adapter runner', () => {
  it('finds k6 through K6_BIN or PATH', () => {
    expect(resolveK6Bin({ K6_BIN: fakeK6 })).toBe(fakeK6);
    expect(resolveK6Bin({ PATH: `/nonexistent:${dir}` })).toBe(fakeK6);
    expect(resolveK6Bin({ PATH: '/nonexistent' })).toBeUndefined();
    expect(() => resolveK6Bin({ K6_BIN: path.join(dir, 'missing') })).toThrow(/not an executable/);
  });

  it('runs k6 with json output and the scenario, and reads back seconds, history, summary and exit status 99', async () => {
    const argsFile = path.join(dir, 'args.json');
    process.env.FAKE_K6_ARGS = argsFile;
    const seconds: TLoadSecond[] = [];
    const events: THistoryEvent[] = [];
    const r = await runK6(scenario, { bin: fakeK6, baseUrl: 'http://127.0.0.1:9/', onSecond: (s) => seconds.push(s), onHistory: (e) => events.push(e) });
    const { args, env, scenario: sent } = JSON.parse(await import('node:fs').then((fs) => fs.readFileSync(argsFile, 'utf8')));
    expect(args[0]).toBe('run');
    expect(args).toContain('--log-format=json');
    expect(args.at(-1)).toMatch(/loadtests\/k6\/scenario\.js$/);
    expect(env).toMatchObject({ BASE_URL: 'http://127.0.0.1:9', FAULTLINE_HISTORY: '1' });
    expect(sent.load).toEqual(scenario.load);

    expect(r.engine).toBe('k6');
    expect(r.exitCode).toBe(99);
    expect(r.thresholds.find((t) => !t.ok)).toEqual({ metric: 'shop_checkout_duration', expression: 'p(99)<200', ok: false });
    expect(r.metrics.http_reqs.values.count).toBe(210);
    expect(seconds.reduce((s, x) => s + x.rps, 0)).toBe(210);
    expect(r.seconds).toEqual(seconds);
    expect(events.length).toBeGreaterThanOrEqual(8);
    expect(r.history).toEqual(events);
    expect(r.history.map((e) => e.index)).toEqual(r.history.map((_, i) => i));
    expect(r.history.filter((e) => e.type === 'ok').every((e) => e.value.orderId)).toBe(true);
  }, 30_000);

  it('a k6 that dies without a summary is an error carrying its exit status', async () => {
    const dead = path.join(dir, 'k6-dead');
    writeFileSync(dead, `#!${process.execPath}\nprocess.stderr.write('{"level":"error","msg":"SyntaxError: bad script"}\\n'); process.exit(107);\n`);
    chmodSync(dead, 0o755);
    await expect(runK6(scenario, { bin: dead, baseUrl: 'http://127.0.0.1:9' })).rejects.toMatchObject({
      code: 'UNAVAILABLE',
      details: { exitCode: 107, stderr: expect.stringMatching(/bad script/) },
    });
  });
});
