import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AppError } from '../core/errors.js';
import { EXPERIMENTS_DIR, parseExperiment } from '../experiments/index.js';
import { assertShopTargets, shopTargetIssues } from './shop-targets.js';

const base = readFileSync(path.join(EXPERIMENTS_DIR, 'payments-latency.yaml'), 'utf8');

describe('shop target pre-flight', () => {
  it('accepts every shipped experiment', () => {
    for (const f of readdirSync(EXPERIMENTS_DIR).filter((n) => n.endsWith('.yaml'))) {
      const text = readFileSync(path.join(EXPERIMENTS_DIR, f), 'utf8');
      expect(shopTargetIssues(parseExperiment(text, f)), f).toEqual([]);
    }
  });

  it('names an unknown edge with its field and line, before anything starts', () => {
    const yaml = base.replace('target: orders->payments\n', 'target: orders->nowhere\n');
    const e = parseExperiment(yaml, 'x.yaml');
    try {
      assertShopTargets(e, yaml, 'x.yaml');
      throw new Error('expected an error');
    } catch (err) {
      expect(err).toBeInstanceOf(AppError);
      expect((err as AppError).exitCode).toBe(2);
      const [issue, ...rest] = (err as AppError).issues;
      expect(rest).toEqual([]);
      expect(issue.path).toBe('faults.0.fault.target');
      expect(issue.message).toContain('unknown edge "orders->nowhere"');
      expect(yaml.split('\n')[issue.line! - 1]).toContain('orders->nowhere');
    }
  });

  it('names an unknown load scenario', () => {
    const e = parseExperiment(base.replace('scenario: checkout-mix', 'scenario: nosuch'), 'x.yaml');
    expect(shopTargetIssues(e)).toEqual([{ path: 'load.scenario', message: expect.stringMatching(/unknown scenario "nosuch".*checkout-mix/) }]);
  });

  it('checks breakers, services, instances and partition patterns', () => {
    const e = parseExperiment(base, 'x.yaml');
    const bad = {
      ...e,
      faults: [
        { ...e.faults[0], fault: { type: 'http_abort', target: 'billing', params: {} } },
        { ...e.faults[0], fault: { type: 'kill', target: 'payments-12', params: {} } },
        { ...e.faults[0], fault: { type: 'partition', target: ['*->payments', 'orders->mq'], params: {} } },
        { ...e.faults[0], fault: { type: 'latency', target: 'orders->payments#1', params: {} } },
      ],
      expectations: { ...e.expectations, breakers: [{ ...e.expectations.breakers[0], breaker: 'orders->postgres' }] },
    } as unknown as typeof e;
    expect(shopTargetIssues(bad).map((i) => i.path)).toEqual([
      'faults.0.fault.target',
      'faults.1.fault.target',
      'faults.2.fault.target.1',
      'expectations.breakers.0.breaker',
    ]);
  });
});
