import { pgSchema, text, timestamp, index } from 'drizzle-orm/pg-core';
import { id64 } from './types.js';

export const usersSchema = pgSchema('users');

export const users = usersSchema.table('users', {
  id: id64('id').primaryKey(),
  email: text('email').notNull().unique(),
  /** `scrypt$N$r$p$salt$hash` (hex). */
  passwordHash: text('password_hash').notNull(),
  name: text('name'),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

export const tokens = usersSchema.table(
  'tokens',
  {
    token: text('token').primaryKey(),
    userId: id64('user_id')
      .notNull()
      .references(() => users.id),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  },
  (t) => [index('tokens_user_idx').on(t.userId)],
);
