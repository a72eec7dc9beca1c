import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../core/errors.js';
import { SCENARIOS_DIR } from '../../loadtests/index.js';
import { resolveScenarioArg, shippedScenarios } from './load.js';

describe('faultline load <scenario>', () => {
  it('takes a path as given, or the name of a shipped scenario', () => {
    expect(resolveScenarioArg('loadtests/scenarios/smoke.yaml')).toBe('loadtests/scenarios/smoke.yaml');
    expect(resolveScenarioArg('smoke')).toBe(path.join(SCENARIOS_DIR, 'smoke.yaml'));
    expect(shippedScenarios()).toEqual(expect.arrayContaining(['browse', 'checkout-mix', 'smoke', 'soak', 'spike']));
  });

  it('names the shipped scenarios when the argument is neither (exit 2)', () => {
    let err: unknown;
    try {
      resolveScenarioArg('nonexistent.yaml');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).exitCode).toBe(2);
    expect((err as AppError).toText()).toMatch(/scenario: no such file.*shipped: browse, checkout-heavy, checkout-mix/);
  });
});
