/**
 * Experiments against a target file: the target and scenario paths resolve
 * against the experiment file, and what the experiment names is checked
 * against what the target declares — each problem at its field and line.
 */
import { mkdtemp, readFile, rm, writeFile, cp } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../core/errors.js';
import { loadTarget } from '../../targets/index.js';
import { loadExperimentFile, loadSuiteFile, parseExperiment, targetNemesisKinds } from '../index.js';

const root = path.resolve(import.meta.dirname, '../..');
const examples = path.join(root, 'examples/transfers/experiments');
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'fl-exp-target-'));
  await cp(path.join(root, 'examples/transfers/target.yaml'), path.join(dir, 'target.yaml'));
  await cp(path.join(root, 'examples/transfers/load.yaml'), path.join(dir, 'load.yaml'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const BASE = `name: t
description: test
target: target.yaml
load: { scenario: load.yaml, duration: 20s }
steady_state:
  slos:
    - { name: a, route: POST /transfers, sli: availability, objective: 99 }
`;

async function issuesOf(text: string): Promise<AppError['issues']> {
  const file = path.join(dir, `e${Math.random().toString(36).slice(2)}.yaml`);
  await writeFile(file, text);
  try {
    await loadExperimentFile(file);
  } catch (e) {
    expect(e).toBeInstanceOf(AppError);
    return (e as AppError).issues;
  }
  throw new Error('expected a validation error');
}

describe('experiments against a target file', () => {
  it('loads the shipped transfers suite with absolute target and scenario paths and every target check', async () => {
    const { experiments } = await loadSuiteFile(path.join(examples, 'suite.yaml'));
    expect(experiments.map((x) => x.experiment.name)).toEqual(['transfers-worker-killed', 'transfers-postgres-reset']);
    for (const { experiment } of experiments) {
      expect(experiment.target).toBe(path.join(root, 'examples/transfers/target.yaml'));
      expect(experiment.load.scenario).toBe(path.join(root, 'examples/transfers/load.yaml'));
      expect(experiment.expectations.invariants).toEqual(['*']);
    }
  });

  it('names an unknown target file at the target field with its line', async () => {
    const issues = await issuesOf(BASE.replace('target: target.yaml', 'target: nowhere.yaml'));
    expect(issues).toEqual([expect.objectContaining({ path: 'target', line: 3, message: expect.stringContaining('no target file') })]);
  });

  it('names an edge and an instance the target does not declare, and a shop invariant', async () => {
    const issues = await issuesOf(`${BASE}faults:
  - { name: slow, at: 1s, duration: 2s, fault: { type: latency, target: transfers->payments, params: { latencyMs: 100 } } }
  - { name: dead, at: 1s, duration: 2s, fault: { type: kill, target: transfers-7 } }
  - { name: http, at: 1s, duration: 2s, fault: { type: http_abort, target: transfers, params: { status: 503, percentage: 50 } } }
expectations:
  invariants: [money-conserved, stock-conserved]
`);
    expect(issues.map((i) => [i.path, i.line])).toEqual([
      ['faults.0.fault.target', 9],
      ['faults.1.fault.target', 10],
      ['faults.2.fault.target', 11],
      ['expectations.invariants.1', 13],
    ]);
    expect(issues[0]!.message).toMatch(/unknown edge "transfers->payments"; the target's edges: transfers->postgres, transfers->redis/);
    expect(issues[1]!.message).toMatch(/unknown instance "transfers-7"/);
    expect(issues[2]!.message).toMatch(/needs a faultline supervisor/);
  });

  it('takes a nemesis whose kinds the target can take; names nemesis.kinds when it can take none of them', async () => {
    const nemesis = (kinds: string) => `${BASE}nemesis:\n  seed: 7\n  count: 3\n  kinds: ${kinds}\n`;
    const file = path.join(dir, 'nemesis-ok.yaml');
    await writeFile(file, nemesis('[latency, pause, http_abort]'));
    expect((await loadExperimentFile(file)).nemesis?.kinds).toEqual(['latency', 'pause', 'http_abort']);
    const issues = await issuesOf(nemesis('[http_abort]'));
    expect(issues).toEqual([expect.objectContaining({ path: 'nemesis.kinds', line: 11 })]);
    expect(issues[0]!.message).toBe('none of http_abort can hit this target; it takes latency, reset_peer, partition, cut, kill, pause');
    const { target } = await loadTarget(path.join(dir, 'target.yaml'));
    expect(targetNemesisKinds(target)).toEqual(['latency', 'reset_peer', 'partition', 'cut', 'kill', 'pause']);
    expect(targetNemesisKinds((await loadTarget('shop')).target)).toEqual(['latency', 'reset_peer', 'partition', 'cut', 'kill', 'pause', 'http_abort']);
  });

  it('takes breaker expectations when the target declares metrics.breakers and scrape URLs', async () => {
    const breakerExp = (target: string, breaker: string) => `${BASE.replace('target: target.yaml', `target: ${target}`)}faults:
  - { name: db-slow, at: 1s, duration: 5s, fault: { type: latency, target: transfers->postgres, params: { latencyMs: 100 } } }
expectations:
  breakers:
    - { breaker: ${breaker}, opens_during: db-slow, closes_within: 10s }
`;
    const original = await readFile(path.join(dir, 'target.yaml'), 'utf8');
    // the transfers target (preset resilience4j, no names): any <from>-><to> name is accepted
    const file = path.join(dir, 'ok.yaml');
    await writeFile(file, breakerExp('target.yaml', 'transfers->postgres'));
    const e = await loadExperimentFile(file);
    expect(e.expectations.breakers).toEqual([expect.objectContaining({ breaker: 'transfers->postgres', opens_during: 'db-slow' })]);
    // a Resilience4j instance name of the target's own (not an edge) too
    await writeFile(file, breakerExp('target.yaml', 'ledgerService'));
    expect((await loadExperimentFile(file)).expectations.breakers[0]!.breaker).toBe('ledgerService');

    // names listed: a breaker the target does not report is named at its field and line
    await writeFile(path.join(dir, 'named.yaml'), original.replace('preset: resilience4j', 'preset: resilience4j\n    names: [transfers->postgres]'));
    const named = await issuesOf(breakerExp('named.yaml', 'transfers->ledger'));
    expect(named).toEqual([
      expect.objectContaining({
        path: 'expectations.breakers.0.breaker',
        line: 12,
        message: 'the target reports no breaker "transfers->ledger"; its metrics.breakers.names: transfers->postgres',
      }),
    ]);
    await writeFile(file, breakerExp('named.yaml', 'transfers->postgres'));
    await expect(loadExperimentFile(file)).resolves.toBeDefined();

    // no mapping, or no scrape URLs: refused at expectations.breakers
    await writeFile(path.join(dir, 'nobreakers.yaml'), original.replace(/\n  breakers:\n    preset: resilience4j/, ''));
    const none = await issuesOf(breakerExp('nobreakers.yaml', 'transfers->postgres'));
    expect(none).toEqual([expect.objectContaining({ path: 'expectations.breakers', message: expect.stringContaining('declares no metrics.breakers') })]);
    await writeFile(path.join(dir, 'noscrape.yaml'), original.replace(/  scrape: \[.*\]\n/, '  prometheus: http://127.0.0.1:9090\n'));
    const noScrape = await issuesOf(breakerExp('noscrape.yaml', 'transfers->postgres'));
    expect(noScrape).toEqual([expect.objectContaining({ path: 'expectations.breakers', message: expect.stringContaining('no metrics.scrape URLs') })]);
  });

  it("the shop's breakers are named after its edges: another name is refused at its field", () => {
    const shop = readFileSync(path.join(root, 'experiments/payments-latency.yaml'), 'utf8');
    expect(() => parseExperiment(shop.replace('breaker: orders->payments', 'breaker: ledgerService'))).toThrow(
      expect.objectContaining({
        issues: [expect.objectContaining({ path: 'expectations.breakers.0.breaker', message: expect.stringContaining('<from>-><to>') })],
      }),
    );
  });

  it('keeps the shop as it was: its invariant names only, shipped scenarios by name', () => {
    expect(() =>
      parseExperiment(
        BASE.replace('target: target.yaml', 'target: shop').replace('load.yaml', 'checkout-mix') + 'expectations: { invariants: [money-conserved] }\n',
      ),
    ).toThrow(AppError);
    const e = parseExperiment(BASE.replace('target: target.yaml\n', '').replace('load.yaml', 'checkout-mix'));
    expect(e.target).toBe('shop');
    expect(e.expectations.invariants).toContain('stock-conserved');
  });
});
