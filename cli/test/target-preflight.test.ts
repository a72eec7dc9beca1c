/**
 * Which runs need the bundled shop, and when each target file is checked:
 * `shop` and the shop's own target file (targets/shop.yaml) need the shop
 * `run`/`gate` start, so that file is checked once the shop is up; any
 * other target file is checked before anything starts.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXPERIMENTS_DIR, parseExperiment, type TExperiment } from '../../experiments/index.js';
import { SHOP_TARGET_FILE, TARGETS_DIR } from '../../targets/index.js';
import { needsShop, preflightOrder } from '../target-preflight.js';

const shipped = parseExperiment(readFileSync(path.join(EXPERIMENTS_DIR, 'payments-errors.yaml'), 'utf8'));
const experiment = (target: string): { experiment: TExperiment } => ({ experiment: { ...shipped, target } });

describe('preflight order', () => {
  it('the shop and its own target file need the shop; another target file does not', () => {
    expect(SHOP_TARGET_FILE).toBe(path.join(TARGETS_DIR, 'shop.yaml'));
    expect(needsShop('shop')).toBe(true);
    expect(needsShop(SHOP_TARGET_FILE)).toBe(true);
    expect(needsShop(path.join(TARGETS_DIR, '..', 'targets', 'shop.yaml'))).toBe(true);
    expect(needsShop(path.resolve('examples/transfers/target.yaml'))).toBe(false);
  });

  it('checks the shop target file after the shop is up, every other target file before anything starts', () => {
    const shop = experiment('shop');
    const shopFile = experiment(SHOP_TARGET_FILE);
    const transfers = experiment(path.resolve('examples/transfers/target.yaml'));
    const { before, afterShop } = preflightOrder([shop, shopFile, transfers]);
    expect(afterShop).toEqual([shopFile]);
    expect(before).toEqual([shop, transfers]);
  });
});
