import { describe, expect, it } from 'vitest';
import { proxyVersionText } from './status.js';

describe('Settings / status: fault proxy version', () => {
  it('reads Toxiproxy 2.6+ JSON and older plain text (was "version [object Object]")', () => {
    expect(proxyVersionText({ version: '2.12.0' })).toBe('version 2.12.0');
    expect(proxyVersionText('2.5.0\n')).toBe('version 2.5.0');
  });
});
