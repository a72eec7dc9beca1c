import { pgSchema, text, timestamp, integer, jsonb, index, check } from 'drizzle-orm/pg-core';
import { sql } from 'drizzle-orm';
import { id64 } from './types.js';

export const paymentsSchema = pgSchema('payments');

export const payments = paymentsSchema.table(
  'payments',
  {
    id: id64('id').primaryKey(),
    orderId: id64('order_id').notNull(),
    idempotencyKey: text('idempotency_key').notNull(),
    amountCents: integer('amount_cents').notNull(),
    /** captured | refunded | failed */
    status: text('status').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('payments_order_idx').on(t.orderId), check('payments_status_ck', sql`${t.status} in ('captured','refunded','failed')`)],
);

export const refunds = paymentsSchema.table(
  'refunds',
  {
    id: id64('id').primaryKey(),
    paymentId: id64('payment_id')
      .notNull()
      .references(() => payments.id),
    orderId: id64('order_id').notNull(),
    amountCents: integer('amount_cents').notNull(),
    idempotencyKey: text('idempotency_key').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('refunds_order_idx').on(t.orderId)],
);

/**
 * Stripe-style idempotency record: claimed (status_code null = in flight)
 * before the work starts, completed with the first response, replayed after.
 */
export const idempotency = paymentsSchema.table('idempotency', {
  key: text('key').primaryKey(),
  requestHash: text('request_hash').notNull(),
  statusCode: integer('status_code'),
  responseBody: jsonb('response_body'),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  lockedAt: timestamp('locked_at', { withTimezone: true }),
});
