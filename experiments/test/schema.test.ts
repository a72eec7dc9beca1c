import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AppError } from '../../core/errors.js';
import {
  BUG_SWITCHES,
  EXPERIMENTS_DIR,
  experimentsDetecting,
  listExperiments,
  loadSuiteFile,
  parseDurationMs,
  parseExperiment,
  SHOP_INVARIANTS,
} from '../index.js';
import { loadTarget } from '../../targets/index.js';

const VALID = `name: t
description: test
load:
  scenario: checkout-mix
  duration: 30s
steady_state:
  slos:
    - name: a
      route: POST /checkout
      sli: availability
      objective: 99.5
faults:
  - name: slow
    at: 5s
    duration: 10s
    fault:
      type: latency
      target: orders->payments
      params:
        latencyMs: 500
expectations:
  breakers:
    - breaker: orders->payments
      opens_during: slow
      closes_within: 5s
`;

function issuesOf(fn: () => unknown): AppError['issues'] {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(AppError);
    return (e as AppError).issues;
  }
  throw new Error('expected a validation error');
}

describe('experiment schema', () => {
  it('parses durations to milliseconds and fills defaults', () => {
    const e = parseExperiment(VALID, 't.yaml');
    expect(e.faults[0].at).toBe(5000);
    expect(e.faults[0].duration).toBe(10_000);
    expect(e.load.duration).toBe(30_000);
    expect(e.steady_state.slos[0].window).toBe(30 * 86_400_000);
    expect(e.quiescence).toBe(10_000);
    expect(e.target).toBe('shop');
    expect(e.expectations.invariants).toContain('stock-conserved');
    expect(e.faults[0].fault).toMatchObject({ type: 'latency', params: { latencyMs: 500, jitterMs: 0 } });
  });

  it("the shop's checks by targets/shop.yaml's names: the default, and the old acknowledged-orders-exist read as acknowledged-writes-exist", async () => {
    const e = parseExperiment(VALID, 't.yaml');
    expect(e.expectations.invariants).toEqual([...SHOP_INVARIANTS]);
    // every default name is a check the shop's target file has
    const t = (await loadTarget('shop')).target;
    const fileChecks = [...t.invariants.map((i) => i.name), 'acknowledged-writes-exist', 'history-consistent'];
    expect(SHOP_INVARIANTS.filter((n) => !fileChecks.includes(n))).toEqual([]);
    const old = parseExperiment(`${VALID}  invariants: [acknowledged-orders-exist, saga-terminal]\n`, 't.yaml');
    expect(old.expectations.invariants).toEqual(['acknowledged-writes-exist', 'saga-terminal']);
    expect(issuesOf(() => parseExperiment(`${VALID}  invariants: [no-such-check]\n`, 't.yaml'))).toEqual([
      expect.objectContaining({ path: 'expectations.invariants.0', message: expect.stringContaining('acknowledged-writes-exist') }),
    ]);
  });

  it('names the field and line of a bad fault parameter', () => {
    const bad = VALID.replace('latencyMs: 500', 'latencyMs: -3');
    const issues = issuesOf(() => parseExperiment(bad, 'bad.yaml'));
    expect(issues).toHaveLength(1);
    expect(issues[0].path).toBe('faults.0.fault.params.latencyMs');
    expect(issues[0].line).toBe(20);
  });

  it('requires threshold_ms on latency SLIs and rejects malformed durations', () => {
    const bad = VALID.replace('sli: availability', 'sli: latency').replace('at: 5s', 'at: soon');
    const issues = issuesOf(() => parseExperiment(bad, 'bad.yaml'));
    const paths = issues.map((i) => i.path).sort();
    expect(paths).toEqual(['faults.0.at', 'steady_state.slos.0.threshold_ms'].sort());
    expect(issues.find((i) => i.path === 'faults.0.at')?.line).toBe(14);
  });

  it('checks cross references: breaker fault names, faults inside the load, unknown keys', () => {
    const bad = VALID.replace('opens_during: slow', 'opens_during: fast').replace('duration: 10s', 'duration: 40s').replace('tags', 'x') + 'colour: red\n';
    const paths = issuesOf(() => parseExperiment(bad)).map((i) => i.path);
    expect(paths).toEqual(expect.arrayContaining(['']));
    const bad2 = VALID.replace('opens_during: slow', 'opens_during: fast').replace('duration: 10s', 'duration: 40s');
    const paths2 = issuesOf(() => parseExperiment(bad2))
      .map((i) => i.path)
      .sort();
    expect(paths2).toEqual(['expectations.breakers.0.opens_during', 'faults.0.duration']);
  });

  it('reports YAML syntax errors with a line', () => {
    // core/validate.ts does not yet fill `line` for syntax errors (yaml's
    // linePos is only set with prettyErrors); the message must still say what broke.
    const err = (() => {
      try {
        parseExperiment('name: a\nname: b\n', 'x.yaml');
      } catch (e) {
        return e as AppError;
      }
    })();
    expect(err?.message).toMatch(/x\.yaml: YAML syntax error/);
    expect(err?.issues[0].message).toMatch(/unique/i);
  });

  it('parses durations', () => {
    expect(parseDurationMs('250ms')).toBe(250);
    expect(parseDurationMs('1.5s')).toBe(1500);
    expect(parseDurationMs('2m')).toBe(120_000);
    expect(parseDurationMs(3)).toBe(3000);
    expect(parseDurationMs('3 weeks')).toBeUndefined();
  });
});

describe('experiment schema bounds (issue 13)', () => {
  const pathsOf = (yaml: string) => issuesOf(() => parseExperiment(yaml)).map((i) => i.path);

  it('refuses an SLO window of 0d or beyond 90d, naming the field', () => {
    const zero = VALID.replace('objective: 99.5', 'objective: 99.5\n      window: 0d');
    expect(pathsOf(zero)).toEqual(['steady_state.slos.0.window']);
    expect(issuesOf(() => parseExperiment(zero))[0].message).toMatch(/at least 1m/);
    expect(pathsOf(VALID.replace('objective: 99.5', 'objective: 99.5\n      window: 99999999d'))).toEqual(['steady_state.slos.0.window']);
    expect(pathsOf(VALID.replace('objective: 99.5', 'objective: 99.5\n      window: 91d'))).toEqual(['steady_state.slos.0.window']);
    expect(parseExperiment(VALID.replace('objective: 99.5', 'objective: 99.5\n      window: 90d')).steady_state.slos[0].window).toBe(90 * 86_400_000);
    expect(parseExperiment(VALID.replace('objective: 99.5', 'objective: 99.5\n      window: 1m')).steady_state.slos[0].window).toBe(60_000);
  });

  it('refuses a load duration outside 1s..24h, naming the field', () => {
    for (const d of ['99999999d', '25h', '0s', '500ms']) {
      const issues = issuesOf(() => parseExperiment(VALID.replace('duration: 30s', `duration: ${d}`)));
      expect(
        issues.map((i) => i.path),
        d,
      ).toContain('load.duration');
      expect(issues.find((i) => i.path === 'load.duration')?.line, d).toBe(5);
    }
    expect(parseExperiment(VALID.replace('duration: 30s', 'duration: 24h')).load.duration).toBe(86_400_000);
  });

  it('refuses a fault at or duration beyond any load, and a fault ending after the load', () => {
    expect(pathsOf(VALID.replace('at: 5s', 'at: 99999999d'))).toContain('faults.0.at');
    expect(pathsOf(VALID.replace('duration: 10s', 'duration: 99999999d'))).toContain('faults.0.duration');
    expect(pathsOf(VALID.replace('at: 5s', 'at: 25s'))).toEqual(['faults.0.duration']);
    expect(pathsOf(VALID.replace('duration: 10s', 'duration: 0s'))).toEqual(['faults.0.duration']);
  });

  it('refuses a quiescence beyond 10m and bad abort and breaker windows', () => {
    expect(pathsOf(`${VALID}quiescence: 11m\n`)).toEqual(['quiescence']);
    expect(parseExperiment(`${VALID}quiescence: 10m\n`).quiescence).toBe(600_000);
    expect(pathsOf(VALID.replace('closes_within: 5s', 'closes_within: 99999999d'))).toEqual(['expectations.breakers.0.closes_within']);
    const abort = `${VALID}abort:\n  - kind: error_rate\n    above: 50\n    for: 99999999d\n`;
    expect(pathsOf(abort)).toEqual(['abort.0.for']);
  });
});

describe('nemesis block', () => {
  const WITH_NEMESIS = `${VALID}nemesis:\n  seed: 42\n  count: 4\n`;

  it('parses with defaults', () => {
    const n = parseExperiment(WITH_NEMESIS).nemesis!;
    expect(n).toMatchObject({
      seed: 42,
      count: 4,
      kinds: ['latency', 'reset_peer', 'partition', 'kill', 'pause', 'http_abort'],
      duration: { min: 2000, max: 5000 },
      start_after: 3000,
      quiet_tail: 5000,
      max_concurrent: 2,
      latency_ms: 3000,
      http_status: 503,
      exclude: [],
    });
    expect(parseExperiment(VALID).nemesis).toBeUndefined();
  });

  it('names each bad field', () => {
    const cases: [string, string][] = [
      ['seed: 42', 'seed: 4.5'],
      ['seed: 42', 'seed: -1'],
      ['count: 4', 'count: 0'],
      ['count: 4', 'count: 4\n  every: 3s'],
      ['count: 4', 'count: 4\n  kinds: [latency, meteor]'],
      ['count: 4', 'count: 4\n  kinds: [kill, kill]'],
      ['count: 4', 'count: 4\n  kinds: []'],
      ['count: 4', 'count: 4\n  duration: { min: 5s, max: 2s }'],
      ['count: 4', 'count: 4\n  duration: { min: 0s, max: 2s }'],
      ['count: 4', 'count: 4\n  duration: { min: 1s, max: 99999999d }'],
      ['count: 4', 'count: 4\n  max_concurrent: 0'],
      ['count: 4', 'count: 4\n  http_status: 404'],
      ['count: 4', 'count: 4\n  latency_ms: 0'],
      ['count: 4', 'count: 4\n  routes: ["payments /charges"]'],
      ['count: 4', 'count: 4\n  quiet_tail: 99999999d'],
      ['count: 4', 'count: 4\n  exclude: ["orders -> redis"]'],
      ['count: 4', 'count: 4\n  colour: red'],
    ];
    const expected = [
      'nemesis.seed',
      'nemesis.seed',
      'nemesis.count',
      'nemesis.every',
      'nemesis.kinds.1',
      'nemesis.kinds',
      'nemesis.kinds',
      'nemesis.duration.max',
      'nemesis.duration.min',
      'nemesis.duration.max',
      'nemesis.max_concurrent',
      'nemesis.http_status',
      'nemesis.latency_ms',
      'nemesis.routes.0',
      'nemesis.quiet_tail',
      'nemesis.exclude.0',
      'nemesis',
    ];
    cases.forEach(([from, to], i) => {
      const issues = issuesOf(() => parseExperiment(WITH_NEMESIS.replace(from, to)));
      expect(
        issues.map((x) => x.path),
        to,
      ).toContain(expected[i]);
      expect(issues.find((x) => x.path === expected[i])?.line, to).toBeGreaterThan(0);
    });
  });

  it('refuses a window with no room for a fault, and own faults named like the schedule', () => {
    const tight = WITH_NEMESIS.replace('count: 4', 'count: 4\n  start_after: 10s\n  quiet_tail: 19s');
    const issues = issuesOf(() => parseExperiment(tight));
    expect(issues.map((i) => i.path)).toEqual(['nemesis.quiet_tail']);
    expect(issues[0].message).toMatch(/no room/);
    expect(
      issuesOf(() => parseExperiment(WITH_NEMESIS.replace(/name: slow/, 'name: nemesis-01-x').replace('opens_during: slow', 'opens_during: nemesis-01-x'))).map(
        (i) => i.path,
      ),
    ).toEqual(['faults.0.name']);
  });
});

describe('shipped experiments and suites', () => {
  it('every shipped experiment validates and each bug switch is detected by one', async () => {
    const all = await listExperiments();
    expect(all.length).toBeGreaterThanOrEqual(6);
    const detecting = await experimentsDetecting();
    for (const bug of BUG_SWITCHES) expect(detecting.get(bug)?.length ?? 0, bug).toBeGreaterThan(0);
  });

  it('the ci suite loads, covers every bug switch and stays short', async () => {
    const s = await loadSuiteFile(path.join(EXPERIMENTS_DIR, 'suites', 'ci.yaml'));
    const covered = new Set(s.experiments.flatMap((x) => x.experiment.detects));
    for (const bug of BUG_SWITCHES) expect(covered.has(bug), bug).toBe(true);
    for (const { experiment } of s.experiments) {
      const total = (experiment.load.duration ?? 0) + experiment.quiescence;
      expect(total).toBeLessThanOrEqual(60_000);
    }
    const full = await loadSuiteFile(path.join(EXPERIMENTS_DIR, 'suites', 'full.yaml'));
    expect(full.experiments).toHaveLength((await listExperiments()).length);
  });

  const tmp: string[] = [];
  afterAll(async () => {
    for (const d of tmp) await rm(d, { recursive: true, force: true });
  });

  it('a suite with a broken and a missing experiment reports both, with file and line', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'fl-suite-'));
    tmp.push(dir);
    await mkdir(path.join(dir, 'suites'));
    await writeFile(path.join(dir, 'good.yaml'), VALID);
    await writeFile(path.join(dir, 'broken.yaml'), VALID.replace('objective: 99.5', 'objective: 120'));
    await writeFile(path.join(dir, 'suites', 's.yaml'), 'name: s\ndescription: d\nexperiments: [good, broken, missing]\n');
    const err = await loadSuiteFile(path.join(dir, 'suites', 's.yaml')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    const issues = (err as AppError).issues;
    expect(issues).toHaveLength(2);
    expect(issues[0]).toMatchObject({ path: 'experiments.1 (broken.yaml) steady_state.slos.0.objective', line: 11 });
    expect(issues[1].path).toBe('experiments.2');
    expect(issues[1].message).toMatch(/not found/);
  });
});
