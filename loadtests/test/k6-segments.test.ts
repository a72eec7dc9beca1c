/**
 * k6 over N processes, with stand-in `k6` executables (no k6 can be
 * installed here) that replay the recorded k6 v1.3.0 output: instance i of
 * N writes every i-th point of the recording, so the merged result must be
 * the recording's, whatever N is.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { k6RawFromPoints } from '../k6-adapter/raw.js';
import { k6RunArgs } from '../k6-adapter/run.js';
import { runK6Segments } from '../k6-adapter/segments.js';
import { mergeLoadResults } from '../merge.js';
import { parseScenario } from '../scenario.js';
import { evenSegmentSpec, parseSegment, parseSegmentSequence } from '../segments.js';
import type { TLoadResult, TLoadSecond } from '../types.js';
import { startFakeShop, type TFakeShop } from './fake-shop.js';

// shared/ lies beside the checkout (as in CI's fresh clone)
const FIX = path.resolve(import.meta.dirname, '../../../shared/fixtures/k6');
const POINTS = readFileSync(`${FIX}/points.jsonl`, 'utf8');
let dir: string;
let fakeK6: string;
let shop: TFakeShop | undefined;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'faultline-fakek6seg-'));
  fakeK6 = path.join(dir, 'k6');
  // replays its share of the recording: Metric lines always, Point lines by index modulo N
  writeFileSync(
    fakeK6,
    `#!${process.execPath}
const fs = require('node:fs');
const args = process.argv.slice(2);
const env = {};
for (let i = 0; i < args.length; i++) if (args[i] === '-e') { const [k, ...v] = args[++i].split('='); env[k] = v.join('='); }
const flag = (n) => { const i = args.indexOf(n); return i === -1 ? undefined : args[i + 1]; };
const seg = flag('--execution-segment');
const seq = flag('--execution-segment-sequence').split(',');
const n = seq.length - 1;
const me = seq.indexOf(seg.split(':')[0]);
const out = flag('--out').replace(/^json=/, '');
fs.writeFileSync(process.env.FAKE_K6_DIR + '/args-' + me + '.json', JSON.stringify({ args, env, setup: env.FAULTLINE_SETUP_DATA ? JSON.parse(fs.readFileSync(env.FAULTLINE_SETUP_DATA, 'utf8')) : null }));
let p = 0;
const mine = fs.readFileSync(${JSON.stringify(`${FIX}/points.jsonl`)}, 'utf8').split('\\n').filter((l) => l && (!l.includes('"type":"Point"') || p++ % n === me));
fs.writeFileSync(out, mine.join('\\n') + '\\n');
fs.writeFileSync(env.SUMMARY_PATH, fs.readFileSync(${JSON.stringify(`${FIX}/handle-summary-data.json`)}));
process.exit(Number(process.env.FAKE_K6_EXIT || 0));
`,
  );
  chmodSync(fakeK6, 0o755);
  process.env.FAKE_K6_DIR = dir;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(async () => {
  await shop?.close();
  shop = undefined;
  delete process.env.FAKE_K6_EXIT;
});

const scenario = parseScenario(`name: t
setup: { users: 3, products: 1 }
mix: { browse: 1, checkout: 1 }
load: { executor: constant-arrival-rate, rate: 40, duration: 4s, preAllocatedVUs: 5, maxVUs: 20 }
thresholds:
  http_req_duration: ['p(95)<100']
  http_req_duration{scenario:browse}: ['p(95)<100']
  http_reqs: ['count>=200']
`);

/** k6's exact percentile over the recorded samples of a metric (optionally filtered by tag). */
function recorded(metric: string, tag?: [string, string]): number[] {
  return POINTS.split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l))
    .filter((r) => r.type === 'Point' && r.metric === metric && (!tag || r.data.tags?.[tag[0]] === tag[1]))
    .map((r) => r.data.value as number);
}

function expectWithinPrecision(value: number, samples: number[], p: number): void {
  const s = [...samples].sort((a, b) => a - b);
  const i = (p / 100) * (s.length - 1);
  expect(value).toBeGreaterThanOrEqual(s[Math.floor(i)] * 0.999 - 0.001);
  expect(value).toBeLessThanOrEqual(s[Math.ceil(i)] * 1.001 + 0.001);
}

describe('k6 command lines for segments', () => {
  it("passes each instance k6's segment flags, its own output files and the handed setup data", () => {
    const files = { scenario: '/t/s.json', points: '/t/p-1.jsonl', summary: '/t/sum-1.json' };
    const args = k6RunArgs({ files, baseUrl: 'http://shop:8080/', segment: evenSegmentSpec(1, 3), setupDataFile: '/t/setup.json' });
    expect(args.slice(0, 4)).toEqual(['run', '--out', 'json=/t/p-1.jsonl', '--log-format=json']);
    const at = args.indexOf('--execution-segment');
    expect(args.slice(at, at + 4)).toEqual(['--execution-segment', '1/3:2/3', '--execution-segment-sequence', '0,1/3,2/3,1']);
    expect(args).toContain('FAULTLINE_SETUP_DATA=/t/setup.json');
    expect(args).toContain('BASE_URL=http://shop:8080');
    // k6's own syntax: the values parse with k6's rules and the segment is in the sequence
    expect(() => parseSegment(args[at + 1])).not.toThrow();
    expect(parseSegmentSequence(args[at + 3])).toHaveLength(3);
  });
});

describe('runK6Segments', () => {
  for (const n of [1, 2, 3]) {
    it(`${n} k6 process(es): setup once, segment flags, merged result equals the recording`, async () => {
      shop = await startFakeShop();
      const seconds: TLoadSecond[] = [];
      const r = await runK6Segments(scenario, { bin: fakeK6, baseUrl: shop.url, segments: n, onSecond: (s) => seconds.push(s) });
      // setup ran once, here: 3 users registered, not 3·n
      expect(shop.counts['POST /users']).toBe(3);
      const seen = Array.from({ length: n }, (_, i) => JSON.parse(readFileSync(path.join(dir, `args-${i}.json`), 'utf8')));
      for (const [i, a] of seen.entries()) {
        expect(a.args).toEqual(expect.arrayContaining(['--execution-segment', evenSegmentSpec(i, n).segment]));
        expect(a.setup.users).toHaveLength(3);
        expect(a.setup.users[0].token).toBeTruthy();
        expect(a.setup.runTag).toBe(seen[0].setup.runTag);
      }
      // counts add up to the recording's; percentiles from the merged histograms
      const whole = recorded('http_req_duration');
      expect(r.metrics.http_reqs.values.count).toBe(210);
      expect(r.metrics.http_req_duration.values.max).toBe(Math.max(...whole));
      expectWithinPrecision(r.metrics.http_req_duration.values['p(95)'], whole, 95);
      expectWithinPrecision(r.metrics['http_req_duration{scenario:browse}'].values['p(95)'], recorded('http_req_duration', ['scenario', 'browse']), 95);
      expect(r.metrics.shop_checkout_duration.values.max).toBe(Math.max(...recorded('shop_checkout_duration')));
      // one verdict on the merged data: p(95) of the recording is ~200 ms
      expect(r.thresholds).toEqual([
        { metric: 'http_req_duration', expression: 'p(95)<100', ok: false },
        { metric: 'http_req_duration{scenario:browse}', expression: 'p(95)<100', ok: true },
        { metric: 'http_reqs', expression: 'count>=200', ok: true },
      ]);
      expect(r.exitCode).toBe(99);
      expect(seconds.reduce((s, x) => s + x.rps, 0)).toBe(210);
      expect(r.seconds.reduce((s, x) => s + x.rps, 0)).toBe(210);
    }, 60_000);
  }

  it('merging the instances equals reading the whole recording in one piece', () => {
    const lines = POINTS.split('\n');
    let p = 0;
    const parts: string[] = ['', ''];
    for (const l of lines) {
      if (!l) continue;
      if (l.includes('"type":"Point"')) parts[p++ % 2] += `${l}\n`;
      else for (let i = 0; i < 2; i++) parts[i] += `${l}\n`;
    }
    const asResult = (text: string): TLoadResult => ({
      engine: 'k6',
      startedAt: 0,
      endedAt: 0,
      exitCode: 0,
      metrics: {},
      thresholds: [],
      seconds: [],
      history: [],
      raw: k6RawFromPoints(text, Object.keys(scenario.thresholds), 4234),
    });
    const merged = mergeLoadResults(scenario, parts.map(asResult));
    const single = mergeLoadResults(scenario, [asResult(POINTS)]);
    // every counter, rate and trend value the same (sums may differ in the last bit: addition order);
    // gauges are left out: here both halves replay the one recorded instance's vus, which a real segment does not
    expect(Object.keys(merged.metrics).sort()).toEqual(Object.keys(single.metrics).sort());
    for (const [name, m] of Object.entries(single.metrics)) {
      if (m.type === 'gauge') continue;
      for (const [k, v] of Object.entries(m.values)) expect(merged.metrics[name].values[k], `${name} ${k}`).toBeCloseTo(v, 9);
    }
    expect(merged.thresholds).toEqual(single.thresholds);
  });

  it('an instance that fails stops the run with its error', async () => {
    shop = await startFakeShop();
    const dead = path.join(dir, 'k6-dead');
    writeFileSync(dead, `#!${process.execPath}\nprocess.stderr.write('{"level":"error","msg":"SyntaxError: bad script"}\\n'); process.exit(107);\n`);
    chmodSync(dead, 0o755);
    await expect(runK6Segments(scenario, { bin: dead, baseUrl: shop.url, segments: 2 })).rejects.toMatchObject({
      code: 'UNAVAILABLE',
      details: { exitCode: 107 },
    });
  }, 30_000);
});
