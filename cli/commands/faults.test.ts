import { describe, expect, it } from 'vitest';
import { specFromArgs } from './faults.js';

describe('faults <type> <target> from the command line', () => {
  it('builds the spec, a partition target as a list', () => {
    expect(specFromArgs('latency', 'orders->payments', ['latencyMs=200'])).toEqual({ type: 'latency', target: 'orders->payments', params: { latencyMs: 200 } });
    expect(specFromArgs('partition', 'orders->payments, *->postgres', [])).toMatchObject({ target: ['orders->payments', '*->postgres'] });
  });

  it('explains a target cut by an unquoted ">" (shell redirect) instead of a schema error', () => {
    for (const cut of ['orders-', 'orders->payments,catalog-']) {
      expect(() => specFromArgs('partition', cut, [])).toThrow(
        expect.objectContaining({
          code: 'VALIDATION',
          issues: [expect.objectContaining({ path: 'target', message: expect.stringContaining('quote the target') })],
        }),
      );
    }
    expect(() => specFromArgs('kill', 'payments-0', [])).not.toThrow();
  });
});

describe('--toxiproxy-url / --supervisor-url / --database-url', () => {
  it('must be URLs of the right kind, each bad one named', async () => {
    const { checkFaultFlags } = await import('./halt.js');
    expect(() => checkFaultFlags({ toxiproxyUrl: 'http://127.0.0.1:8474', databaseUrl: 'postgres://postgres@127.0.0.1/faultline' })).not.toThrow();
    expect(() => checkFaultFlags({ toxiproxyUrl: 'nope', supervisorUrl: 'http://127.0.0.1:8479', databaseUrl: 'mysql://x' })).toThrow(
      expect.objectContaining({
        code: 'VALIDATION',
        issues: [expect.objectContaining({ path: '--toxiproxy-url' }), expect.objectContaining({ path: '--database-url' })],
      }),
    );
  });
});
