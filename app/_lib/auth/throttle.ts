/**
 * Sign-in throttling that cannot be turned against users (issue 13).
 *
 *   attempt(user, address) ─▶ Redis (one Lua script, atomic across console processes)
 *       user+address failures ≥ maxPerUserAddress ─▶ 429, Retry-After
 *       address failures      ≥ maxPerAddress     ─▶ 429, Retry-After
 *       otherwise both counters +1 (an attempt counts as a failure until it succeeds,
 *       so parallel guesses cannot slip past the check) ─▶ verify the password
 *   success ─▶ the user+address counter is cleared, the address counter gives the attempt back
 *
 * The lock is per name *and client*: five wrong passwords from one client
 * lock that client out of that name, never the user signing in from
 * elsewhere. The per-address limit stops one client spraying many names.
 * Counters are fixed windows from their first failure; keys are hashed so a
 * name of any length or character makes a short key.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { AppError } from '../../../core/errors.js';

export interface TThrottleOptions {
  /** Failures allowed per user name and client address in a window. @defaultValue 5 */
  maxPerUserAddress?: number;
  /** Failures allowed per client address (any names) in a window. @defaultValue 30 */
  maxPerAddress?: number;
  /** @defaultValue 300000 (5 min) */
  windowMs?: number;
  /** Bound on each Redis round trip: a missing Redis refuses sign-in (503) instead of hanging it. @defaultValue 2000 */
  timeoutMs?: number;
}

export interface TThrottleStore {
  redis: Redis;
  /** Key prefix of this platform (FAULTLINE_PREFIX). */
  prefix: string;
}

// KEYS: user+address counter, address counter. ARGV: max per user+address, max per address, window ms.
// Returns [0, 0] when the attempt may go ahead (and counted it), else [which, ms until the block ends].
const ATTEMPT = `
local ua = tonumber(redis.call('GET', KEYS[1]) or '0')
local a = tonumber(redis.call('GET', KEYS[2]) or '0')
if ua >= tonumber(ARGV[1]) then return {1, redis.call('PTTL', KEYS[1])} end
if a >= tonumber(ARGV[2]) then return {2, redis.call('PTTL', KEYS[2])} end
for i = 1, 2 do
  redis.call('INCR', KEYS[i])
  if redis.call('PTTL', KEYS[i]) < 0 then redis.call('PEXPIRE', KEYS[i], ARGV[3]) end
end
return {0, 0}
`;

// KEYS as above: a successful sign-in clears its user+address failures and returns its address attempt.
const SUCCEED = `
redis.call('DEL', KEYS[1])
local a = tonumber(redis.call('GET', KEYS[2]) or '0')
if a > 0 then redis.call('DECR', KEYS[2]) end
return 0
`;

const hash = (s: string) => createHash('sha256').update(s).digest('base64url').slice(0, 32);

function keys(store: TThrottleStore, user: string, address: string): [string, string] {
  return [`${store.prefix}:login:ua:${hash(`${user}\n${address}`)}`, `${store.prefix}:login:a:${hash(address)}`];
}

async function bounded<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new AppError('UNAVAILABLE', 'sign-in is unavailable: the throttle store (Redis, REDIS_URL) does not answer')), ms);
      }),
    ]);
  } catch (e) {
    if (e instanceof AppError) throw e;
    throw new AppError('UNAVAILABLE', `sign-in is unavailable: the throttle store (Redis, REDIS_URL) failed: ${(e as Error).message}`);
  } finally {
    clearTimeout(timer);
  }
}

export class LoginThrottle {
  private readonly maxPerUserAddress: number;
  private readonly maxPerAddress: number;
  private readonly windowMs: number;
  private readonly timeoutMs: number;

  constructor(
    private readonly store: TThrottleStore,
    o: TThrottleOptions = {},
  ) {
    this.maxPerUserAddress = o.maxPerUserAddress ?? 5;
    this.maxPerAddress = o.maxPerAddress ?? 30;
    this.windowMs = o.windowMs ?? 300_000;
    this.timeoutMs = o.timeoutMs ?? 2000;
  }

  /**
   * Count an attempt before the password is checked; throws TOO_MANY_REQUESTS
   * (429 with Retry-After) when this client is locked out of this name or
   * has failed too often overall.
   */
  async attempt(user: string, address: string): Promise<void> {
    const [which, pttl] = (await bounded(
      this.store.redis.eval(ATTEMPT, 2, ...keys(this.store, user, address), this.maxPerUserAddress, this.maxPerAddress, this.windowMs),
      this.timeoutMs,
    )) as [number, number];
    if (which === 0) return;
    const retryAfterSeconds = Math.max(1, Math.ceil((pttl > 0 ? pttl : this.windowMs) / 1000));
    const message =
      which === 1
        ? `too many failed sign-ins for ${user} from this client; try again in ${retryAfterSeconds} s`
        : `too many failed sign-ins from this client; try again in ${retryAfterSeconds} s`;
    throw new AppError('TOO_MANY_REQUESTS', message, { details: { retryAfterSeconds } });
  }

  /** The password was right: forget this client's failures for this name. */
  async succeed(user: string, address: string): Promise<void> {
    await bounded(this.store.redis.eval(SUCCEED, 2, ...keys(this.store, user, address)), this.timeoutMs);
  }
}

/**
 * The client's address as the console can know it. Next fills
 * `x-forwarded-for` with the socket address only when the request carries
 * none. Behind `trustedProxies` reverse proxies, each appending the address
 * it saw, the entry that many places from the right was written by the
 * proxy next to the client. With none (or one) it is the last entry. A
 * client talking to Next directly can forge that header and so get a fresh
 * budget per forged address; it can never lock anybody else out, because
 * every lock is per name *and* address. Deploy behind a proxy and set
 * FAULTLINE_TRUSTED_PROXIES to close that gap.
 */
export function clientAddress(headers: Headers, trustedProxies = Number(process.env.FAULTLINE_TRUSTED_PROXIES ?? 0)): string {
  const chain = (headers.get('x-forwarded-for') ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (!chain.length) return 'unknown';
  const n = Number.isInteger(trustedProxies) && trustedProxies > 1 ? trustedProxies : 1;
  return chain[Math.max(0, chain.length - n)].slice(0, 64);
}
