import { describe, expect, it } from 'vitest';
import { AppError } from '../../core/errors.js';
import { authenticate, configuredUsers, hashPassword, parseUsers, roleAllows, verifyPassword } from '../_lib/auth/users.js';
import { configuredTokens } from '../_lib/auth/session.js';

describe('users from configuration', () => {
  it('verifies scrypt hashes and nothing else', () => {
    const h = hashPassword('s3cret');
    expect(h).toMatch(/^scrypt\$16384\$8\$1\$/);
    expect(verifyPassword('s3cret', h)).toBe(true);
    expect(verifyPassword('s3creT', h)).toBe(false);
    expect(verifyPassword('s3cret', 'plain:s3cret')).toBe(false);
    // a hostile N would make scrypt allocate gigabytes: refused, not computed
    expect(verifyPassword('s3cret', h.replace('$16384$', '$1073741824$'))).toBe(false);
  });

  it('parses FAULTLINE_USERS and names the bad entry and field', () => {
    const users = parseUsers(`alice:operator:${hashPassword('a')}, bob:viewer:${hashPassword('b')}`);
    expect(users.map((u) => [u.name, u.role])).toEqual([
      ['alice', 'operator'],
      ['bob', 'viewer'],
    ]);
    const e = (() => {
      try {
        parseUsers(`alice:admin:${hashPassword('a')},carol:viewer:plaintext,dave`);
      } catch (x) {
        return x as AppError;
      }
    })()!;
    expect(e).toBeInstanceOf(AppError);
    expect(e.issues.map((i) => i.path)).toEqual(['FAULTLINE_USERS.0.role', 'FAULTLINE_USERS.1.hash', 'FAULTLINE_USERS.2']);
  });

  it('quickstart users apply only when FAULTLINE_USERS is unset', () => {
    const defaults = configuredUsers({});
    expect(authenticate(defaults, 'operator', 'operator')?.role).toBe('operator');
    expect(authenticate(defaults, 'viewer', 'viewer')?.role).toBe('viewer');
    expect(authenticate(defaults, 'viewer', 'operator')).toBeNull();
    expect(authenticate(defaults, 'nobody', 'x')).toBeNull();
    const own = configuredUsers({ FAULTLINE_USERS: `ops:operator:${hashPassword('pw')}` });
    expect(authenticate(own, 'operator', 'operator')).toBeNull();
    expect(authenticate(own, 'ops', 'pw')?.name).toBe('ops');
  });

  it('roles are ordered', () => {
    expect(roleAllows('operator', 'viewer')).toBe(true);
    expect(roleAllows('viewer', 'operator')).toBe(false);
  });

  it('FAULTLINE_API_TOKENS entries are checked', () => {
    expect(configuredTokens({ FAULTLINE_API_TOKENS: `ci:operator:${'a'.repeat(64)}` })).toHaveLength(1);
    expect(() => configuredTokens({ FAULTLINE_API_TOKENS: 'ci:root:abc' })).toThrow(/FAULTLINE_API_TOKENS/);
  });
});

describe('sign-in throttle', () => {
  it('refuses a name after 5 failures in the window, and lets it in again once they age out', async () => {
    const { LoginThrottle } = await import('../_lib/auth/throttle.js');
    const th = new LoginThrottle({ max: 5, windowMs: 60_000 });
    for (let i = 0; i < 5; i++) {
      expect(th.retryAfter('alice', 1000 + i)).toBe(0);
      th.fail('alice', 1000 + i);
    }
    expect(th.retryAfter('alice', 2000)).toBe(1000 + 60_000 - 2000);
    expect(th.retryAfter('bob', 2000)).toBe(0);
    expect(th.retryAfter('alice', 61_001)).toBe(0);
    th.fail('carol', 0);
    th.succeed('carol');
    expect(th.retryAfter('carol', 1)).toBe(0);
  });

  it('forgets the oldest names beyond maxKeys', async () => {
    const { LoginThrottle } = await import('../_lib/auth/throttle.js');
    const th = new LoginThrottle({ max: 1, windowMs: 60_000, maxKeys: 2 });
    th.fail('a', 0);
    th.fail('b', 0);
    th.fail('c', 0);
    expect(th.retryAfter('a', 1)).toBe(0);
    expect(th.retryAfter('c', 1)).toBeGreaterThan(0);
  });
});
