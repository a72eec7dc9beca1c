/**
 * Who may sign in, from configuration. Pure: no I/O besides the CPU cost of
 * scrypt.
 *
 * `FAULTLINE_USERS` is a comma list of `name:role:hash`, where `hash` is
 * `scrypt$<N>$<r>$<p>$<salt b64url>$<key b64url>` as produced by
 * {@link hashPassword} (`npx tsx app/_lib/auth/hash-password.ts <password>`).
 * When the variable is unset the embedded quickstart users apply:
 * `operator` / `operator` (role operator) and `viewer` / `viewer` (role
 * viewer) — documented in docs/console.md, meant for a laptop only.
 */
import { randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { AppError } from '../../../core/errors.js';

export const ROLES = ['viewer', 'operator'] as const;
export type TRole = (typeof ROLES)[number];

/** viewer < operator: an operator may do everything a viewer may. */
export function roleAllows(have: TRole, need: TRole): boolean {
  return ROLES.indexOf(have) >= ROLES.indexOf(need);
}

export interface TUser {
  name: string;
  role: TRole;
  hash: string;
}

const SCRYPT = { N: 16384, r: 8, p: 1, keylen: 32 };

export function hashPassword(password: string, salt: Buffer = randomBytes(16)): string {
  const key = scryptSync(password, salt, SCRYPT.keylen, { N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p });
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

const HashSchema = z.string().regex(/^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9_-]+\$[A-Za-z0-9_-]+$/, 'expected scrypt$N$r$p$salt$key (see hash-password.ts)');

export function verifyPassword(password: string, hash: string): boolean {
  const parts = hash.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [N, r, p] = parts.slice(1, 4).map(Number);
  const salt = Buffer.from(parts[4], 'base64url');
  const want = Buffer.from(parts[5], 'base64url');
  // Bounds keep a hostile configuration from asking scrypt for gigabytes.
  if (!(N >= 1024 && N <= 1 << 20 && r >= 1 && r <= 32 && p >= 1 && p <= 16) || want.length < 16) return false;
  const got = scryptSync(password, salt, want.length, { N, r, p, maxmem: 256 * N * r + 1024 * 1024 });
  return timingSafeEqual(got, want);
}

const UserEntrySchema = z.object({
  name: z.string().regex(/^[A-Za-z0-9._@-]{1,64}$/, 'user name: letters, digits, . _ @ - (1–64)'),
  role: z.enum(ROLES),
  hash: HashSchema,
});

/** Parse `FAULTLINE_USERS`; a bad entry is a VALIDATION error naming its position. */
export function parseUsers(spec: string): TUser[] {
  const users: TUser[] = [];
  const issues: { path: string; message: string }[] = [];
  spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .forEach((entry, i) => {
      const first = entry.indexOf(':');
      const second = entry.indexOf(':', first + 1);
      if (first < 0 || second < 0) {
        issues.push({ path: `FAULTLINE_USERS.${i}`, message: 'expected name:role:hash' });
        return;
      }
      const r = UserEntrySchema.safeParse({ name: entry.slice(0, first), role: entry.slice(first + 1, second), hash: entry.slice(second + 1) });
      if (!r.success) for (const iss of r.error.issues) issues.push({ path: `FAULTLINE_USERS.${i}.${iss.path.join('.')}`, message: iss.message });
      else users.push(r.data);
    });
  if (issues.length) throw new AppError('VALIDATION', 'invalid FAULTLINE_USERS', { issues });
  if (!users.length) throw new AppError('VALIDATION', 'FAULTLINE_USERS lists no user', { issues: [{ path: 'FAULTLINE_USERS', message: 'empty' }] });
  return users;
}

/** The quickstart users (name = password); a fixed salt keeps startup deterministic. */
export const DEFAULT_USERS: readonly { name: string; role: TRole; password: string }[] = [
  { name: 'operator', role: 'operator', password: 'operator' },
  { name: 'viewer', role: 'viewer', password: 'viewer' },
];

let cache: { spec: string | undefined; users: TUser[] } | undefined;

/** Users from the environment (cached per spec so scrypt of the defaults runs once). */
export function configuredUsers(env: Record<string, string | undefined> = process.env): TUser[] {
  const spec = env.FAULTLINE_USERS?.trim() || undefined;
  if (cache && cache.spec === spec) return cache.users;
  const users = spec
    ? parseUsers(spec)
    : DEFAULT_USERS.map((u) => ({ name: u.name, role: u.role, hash: hashPassword(u.password, Buffer.from(`faultline-${u.name}`)) }));
  cache = { spec, users };
  return users;
}

/** Whether the embedded quickstart credentials are in use (the console warns). */
export function usingDefaultUsers(env: Record<string, string | undefined> = process.env): boolean {
  return !env.FAULTLINE_USERS?.trim();
}

/** Check a name and password; constant work whether or not the user exists. */
export function authenticate(users: TUser[], name: string, password: string): TUser | null {
  const u = users.find((x) => x.name === name);
  // Verify against a dummy hash for unknown names so timing does not reveal which names exist.
  const ok = verifyPassword(password, u?.hash ?? users[0]?.hash ?? hashPassword('x'));
  return u && ok ? u : null;
}
