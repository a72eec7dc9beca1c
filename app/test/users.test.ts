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
  it('a lock ends when its window ends (Redis expiry), and a success clears the failures of that name and client', async () => {
    const { Redis } = await import('ioredis');
    const { LoginThrottle } = await import('../_lib/auth/throttle.js');
    const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
    const prefix = `fltest-throttle-${Math.random().toString(36).slice(2, 10)}`;
    try {
      const th = new LoginThrottle({ redis, prefix }, { maxPerUserAddress: 2, maxPerAddress: 100, windowMs: 400 });
      await th.attempt('alice', '10.1.1.1');
      await th.attempt('alice', '10.1.1.1');
      const err = await th.attempt('alice', '10.1.1.1').catch((e: AppError) => e);
      expect(err).toMatchObject({ code: 'TOO_MANY_REQUESTS', details: { retryAfterSeconds: 1 } });
      // another name from the same client is not locked
      await th.attempt('bob', '10.1.1.1');
      // the key expires with the window: poll (bounded) until alice may try again
      const until = Date.now() + 5000;
      let open = false;
      while (!open && Date.now() < until) {
        open = await th.attempt('alice', '10.1.1.1').then(
          () => true,
          () => false,
        );
        if (!open) await new Promise((r) => setTimeout(r, 100));
      }
      expect(open).toBe(true);
      await th.succeed('alice', '10.1.1.1');
      await th.attempt('alice', '10.1.1.1');
      await th.attempt('alice', '10.1.1.1');
    } finally {
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length) await redis.del(...keys);
      redis.disconnect();
    }
  });

  it('no Redis: sign-in is refused as unavailable, not hung', async () => {
    const { Redis } = await import('ioredis');
    const { LoginThrottle } = await import('../_lib/auth/throttle.js');
    const redis = new Redis('redis://127.0.0.1:1', { maxRetriesPerRequest: null, lazyConnect: false });
    redis.on('error', () => undefined);
    try {
      const th = new LoginThrottle({ redis, prefix: 'x' }, { timeoutMs: 300 });
      await expect(th.attempt('alice', '10.1.1.1')).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    } finally {
      redis.disconnect();
    }
  });

  it('the client address is the last X-Forwarded-For entry, or the one the nearest trusted proxy wrote', async () => {
    const { clientAddress } = await import('../_lib/auth/throttle.js');
    const h = (v?: string) => new Headers(v ? { 'x-forwarded-for': v } : {});
    expect(clientAddress(h('127.0.0.1'), 0)).toBe('127.0.0.1');
    expect(clientAddress(h('6.6.6.6, 10.0.0.5'), 0)).toBe('10.0.0.5');
    expect(clientAddress(h('6.6.6.6, 203.0.113.9, 10.0.0.2'), 2)).toBe('203.0.113.9');
    expect(clientAddress(h(), 0)).toBe('unknown');
  });
});
