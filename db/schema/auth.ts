/**
 * Console access: browser sessions and API tokens (CLI, CI). Secrets are
 * never stored: a session row and a token row are keyed by the SHA-256 of
 * the random value the client holds.
 */
import { pgTable, text, timestamp, index } from 'drizzle-orm/pg-core';

export const sessions = pgTable(
  'sessions',
  {
    /** sha256(cookie value), hex. */
    id: text('id').primaryKey(),
    username: text('username').notNull(),
    role: text('role', { enum: ['viewer', 'operator'] }).notNull(),
    /** Per-session CSRF token the browser echoes in `x-csrf-token` on mutations. */
    csrfToken: text('csrf_token').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  },
  (t) => [index('sessions_expires_idx').on(t.expiresAt)],
);

export const apiTokens = pgTable('api_tokens', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  /** sha256(token), hex; the token itself is shown once at creation. */
  tokenHash: text('token_hash').notNull().unique(),
  role: text('role', { enum: ['viewer', 'operator'] }).notNull(),
  createdBy: text('created_by').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
  revokedAt: timestamp('revoked_at', { withTimezone: true }),
});
