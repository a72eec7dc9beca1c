/**
 * A target saved in the console is a system under test like a file: an
 * experiment naming it by its name runs against what it describes. Here the
 * shop's own target file is saved under another name (as the console's "New
 * target from a file" does) and a shipped shop experiment is aimed at it:
 *
 *   createSavedTarget(db, shop.yaml as shop-saved) ─▶ experiment target: shop-saved
 *   ─▶ runner: resolveTargetFile (the saved version written to a file of its own) ─▶ target-system
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { EXPERIMENTS_DIR } from '../../../experiments/index.js';
import { SCENARIOS_DIR } from '../../../loadtests/index.js';
import { SHOP_TARGET_FILE } from '../../../targets/index.js';
import { createSavedTarget } from '../../targets/index.js';
import { runOnFreshShop } from './helpers.js';

describe('a target saved in the console', () => {
  it('runs an experiment naming it, judged from its checks', async () => {
    const file = path.join(EXPERIMENTS_DIR, 'payments-errors.yaml');
    const doc = parseDocument(await readFile(file, 'utf8'));
    doc.set('target', 'shop-saved');
    // a target's load is a scenario file
    doc.setIn(['load', 'scenario'], path.join(SCENARIOS_DIR, `${String(doc.getIn(['load', 'scenario']))}.yaml`));
    const saved = (await readFile(SHOP_TARGET_FILE, 'utf8')).replace(/^name: shop$/m, 'name: shop-saved');
    const { run, violations, toxicsLeft, checked } = await runOnFreshShop({
      yaml: doc.toString(),
      sourcePath: file,
      beforeRun: async (fx) => void (await createSavedTarget(fx.platform.db, saved, 'test')),
    });
    expect(toxicsLeft, 'no fault left behind').toEqual([]);
    expect(run.target).toBe('shop-saved');
    // judged: a clean shop, so no consistency finding; an SLO miss on a loaded machine may fail it, nothing else
    expect(['passed', 'failed'], run.reason ?? '').toContain(run.state);
    expect(violations.filter((v) => v.kind === 'consistency' || v.kind === 'history').map((v) => v.name)).toEqual([]);
    expect(checked['acknowledged-writes-exist']).toBeGreaterThan(0);
    expect(checked['history-consistent']).toBeGreaterThan(0);
  }, 400_000);
});
