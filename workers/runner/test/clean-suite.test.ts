/**
 * The other half of the bug-switch matrix: with every bug switch off, each
 * experiment of the shipped `ci` suite passes end to end (real shop, proxy,
 * runner, analysis — the shop judged through targets/shop.yaml, as `target:
 * shop` always is). A consistency violation here is a shop bug and fails at
 * once; an SLO or breaker miss is retried once, because on a loaded 2-core
 * machine one noisy minute can push a latency SLO over its objective — a
 * second miss fails the test.
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { EXPERIMENTS_DIR, loadSuiteFile } from '../../../experiments/index.js';
import { runOnFreshShop } from './helpers.js';

const CONSISTENCY_KINDS = new Set(['consistency', 'history']);

async function runClean(file: string) {
  const { run, violations, toxicsLeft, checked } = await runOnFreshShop({ yaml: await readFile(file, 'utf8'), sourcePath: file });
  expect(toxicsLeft, 'no fault left behind').toEqual([]);
  return { run, violations, checked };
}

const suite = await loadSuiteFile(`${EXPERIMENTS_DIR}/suites/ci.yaml`);

describe('the shipped ci suite passes with every bug switch off', () => {
  for (const { file, experiment } of suite.experiments) {
    it(`${experiment.name} passes`, async () => {
      let { run, violations, checked } = await runClean(file);
      if (run.state !== 'passed') {
        const consistency = violations.filter((v) => CONSISTENCY_KINDS.has(v.kind));
        expect(
          consistency.map((v) => `${v.name}: ${JSON.stringify(v.evidence).slice(0, 300)}`),
          'consistency violations with no bug switch on',
        ).toEqual([]);
        console.log(`${experiment.name}: first run ${run.state} (${run.reason}); retrying once`);
        ({ run, violations, checked } = await runClean(file));
      }
      expect(run.state, `${run.reason ?? ''} ${JSON.stringify(violations.map((v) => v.name))}`).toBe('passed');
      expect(violations).toEqual([]);
      // the file's history checks judged the run's checkouts, not nothing
      expect(checked['acknowledged-writes-exist']).toBeGreaterThan(0);
      expect(checked['history-consistent']).toBeGreaterThan(0);
    }, 600_000);
  }
});
