import { describe, expect, it } from 'vitest';
import { specFromArgs } from './faults.js';

describe('faults <type> <target> from the command line', () => {
  it('builds the spec, a partition target as a list', () => {
    expect(specFromArgs('latency', 'orders->payments', ['latencyMs=200'])).toEqual({ type: 'latency', target: 'orders->payments', params: { latencyMs: 200 } });
    expect(specFromArgs('partition', 'orders->payments, *->postgres', [])).toMatchObject({ target: ['orders->payments', '*->postgres'] });
  });

  it('explains a target cut by an unquoted ">" (shell redirect) instead of a schema error', () => {
    for (const cut of ['orders-', 'orders->payments,catalog-']) {
      expect(() => specFromArgs('partition', cut, [])).toThrow(expect.objectContaining({ code: 'VALIDATION', issues: [expect.objectContaining({ path: 'target', message: expect.stringContaining("quote the target") })] }));
    }
    expect(() => specFromArgs('kill', 'payments-0', [])).not.toThrow();
  });
});
