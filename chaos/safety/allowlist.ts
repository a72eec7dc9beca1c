/**
 * The targets allowlist (pure): a fault may only touch hosts the operator
 * configured (FAULT_ALLOWED_HOSTS, loopback by default), so a typo or a
 * hostile experiment file cannot point faults at production.
 */
import { AppError } from '../../core/errors.js';
import { loadConfig } from '../../core/config.js';

/** Split the FAULT_ALLOWED_HOSTS comma list. */
export function parseAllowedHosts(list: string): string[] {
  return list
    .split(',')
    .map((h) => normaliseHost(h.trim()))
    .filter((h) => h.length > 0);
}

export function defaultAllowedHosts(): string[] {
  return parseAllowedHosts(loadConfig().FAULT_ALLOWED_HOSTS);
}

function normaliseHost(h: string): string {
  return h.replace(/^\[(.*)\]$/, '$1').toLowerCase();
}

/**
 * Host part of `host:port`, `[v6]:port`, a bare host or a URL. Toxiproxy
 * upstreams are `host:port`; instance and API addresses are URLs.
 */
export function hostOf(address: string): string {
  const a = address.trim();
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(a)) {
    try {
      return normaliseHost(new URL(a).hostname);
    } catch {
      return '';
    }
  }
  const v6 = /^\[([^\]]+)\](?::\d+)?$/.exec(a);
  if (v6) return normaliseHost(v6[1]);
  // More than one colon and no brackets: a bare IPv6 address without port.
  if ((a.match(/:/g) ?? []).length > 1) return normaliseHost(a);
  return normaliseHost(a.replace(/:\d*$/, ''));
}

/** Exact host match, or `*.example.com` matching any subdomain. */
export function isHostAllowed(host: string, allowed: readonly string[]): boolean {
  const h = normaliseHost(host);
  if (!h) return false;
  return allowed.some((a) => {
    const p = normaliseHost(a);
    if (p.startsWith('*.')) return h.endsWith(p.slice(1)) && h.length > p.length - 1;
    return h === p;
  });
}

/**
 * Throw AppError('TARGET_NOT_ALLOWED') when `address` points outside the
 * allowlist. `field` names what was checked (e.g. `target`), `what`
 * describes it for the message (e.g. `upstream of proxy "orders->payments"`).
 */
export function assertAddressAllowed(address: string, allowed: readonly string[], field: string, what: string): void {
  const host = hostOf(address);
  if (isHostAllowed(host, allowed)) return;
  throw new AppError('TARGET_NOT_ALLOWED', `${what} (${address}) is outside the allowed fault targets`, {
    issues: [
      {
        path: field,
        message: `host "${host || address}" is not in FAULT_ALLOWED_HOSTS (${allowed.join(', ') || 'empty'})`,
      },
    ],
    details: { address, host, allowed: [...allowed] },
  });
}
