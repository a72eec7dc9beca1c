/** The console's sign-in throttle, on the platform's Redis under its prefix (shared by every console process). */
import { platform } from '../runs.js';
import { LoginThrottle } from './throttle.js';

const g = globalThis as unknown as { __faultlineLoginThrottles?: Map<string, LoginThrottle> };

export function loginThrottle(): LoginThrottle {
  const p = platform();
  g.__faultlineLoginThrottles ??= new Map();
  const key = `${p.redisUrl} ${p.prefix}`;
  let t = g.__faultlineLoginThrottles.get(key);
  if (!t) {
    t = new LoginThrottle({ redis: p.redis, prefix: p.prefix });
    g.__faultlineLoginThrottles.set(key, t);
  }
  return t;
}
