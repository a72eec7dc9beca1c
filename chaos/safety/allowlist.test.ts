import { describe, expect, it } from 'vitest';
import { AppError } from '../../core/errors.js';
import { assertAddressAllowed, hostOf, isHostAllowed, parseAllowedHosts } from './allowlist.js';

describe('allowlist', () => {
  it('extracts the host of upstreams, URLs and IPv6 forms', () => {
    expect(hostOf('localhost:6379')).toBe('localhost');
    expect(hostOf('127.0.0.1:5432')).toBe('127.0.0.1');
    expect(hostOf('[::1]:8080')).toBe('::1');
    expect(hostOf('http://127.0.0.1:8474')).toBe('127.0.0.1');
    expect(hostOf('http://[::1]:8479/')).toBe('::1');
    expect(hostOf('DB.Example.com:5432')).toBe('db.example.com');
  });

  it('matches exact hosts and *.domain wildcards only', () => {
    const allowed = parseAllowedHosts('127.0.0.1, localhost,[::1],*.shop.internal');
    expect(isHostAllowed('127.0.0.1', allowed)).toBe(true);
    expect(isHostAllowed('::1', allowed)).toBe(true);
    expect(isHostAllowed('payments.shop.internal', allowed)).toBe(true);
    expect(isHostAllowed('shop.internal.evil.com', allowed)).toBe(false);
    expect(isHostAllowed('10.0.0.5', allowed)).toBe(false);
    expect(isHostAllowed('', allowed)).toBe(false);
  });

  it('refuses an address outside the list with TARGET_NOT_ALLOWED naming the field', () => {
    try {
      assertAddressAllowed('prod-db.example.com:5432', ['127.0.0.1'], 'target', 'upstream of proxy "orders->postgres"');
      throw new Error('expected refusal');
    } catch (e) {
      expect(e).toBeInstanceOf(AppError);
      expect((e as AppError).code).toBe('TARGET_NOT_ALLOWED');
      expect((e as AppError).issues[0].path).toBe('target');
      expect((e as AppError).issues[0].message).toContain('prod-db.example.com');
    }
  });
});
