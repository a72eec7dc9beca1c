import { pgSchema, text, timestamp, integer, jsonb, uniqueIndex, index, check, primaryKey, bigserial } from 'drizzle-orm/pg-core';
import { sql } from 'drizzle-orm';
import { id64 } from './types.js';

export const ordersSchema = pgSchema('orders');

export type TOrderItem = { productId: string; qty: number; priceCents: number };

export const orders = ordersSchema.table(
  'orders',
  {
    id: id64('id').primaryKey(),
    userId: id64('user_id').notNull(),
    idempotencyKey: text('idempotency_key').notNull(),
    requestHash: text('request_hash').notNull(),
    /** pending | confirmed | cancelled | failed */
    status: text('status').notNull(),
    totalCents: integer('total_cents').notNull(),
    items: jsonb('items').$type<TOrderItem[]>().notNull(),
    /** Why a failed/cancelled order ended so: out_of_stock | payment_declined | payment_unavailable | stock_unavailable | deadline | cancelled_by_user. */
    failureReason: text('failure_reason'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('orders_user_key_uq').on(t.userId, t.idempotencyKey),
    check('orders_status_ck', sql`${t.status} in ('pending','confirmed','cancelled','failed')`),
  ],
);

export const sagas = ordersSchema.table(
  'sagas',
  {
    orderId: id64('order_id')
      .primaryKey()
      .references(() => orders.id),
    /** started | stock_reserved | payment_captured | completed | compensating | compensated | failed */
    state: text('state').notNull(),
    /** What the saga is doing: checkout | cancel. */
    step: text('step').notNull(),
    deadlineAt: timestamp('deadline_at', { withTimezone: true }).notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('sagas_open_idx')
      .on(t.deadlineAt)
      .where(sql`${t.state} not in ('completed','compensated','failed')`),
  ],
);

export const orderEvents = ordersSchema.table(
  'order_events',
  {
    seq: bigserial('seq', { mode: 'number' }).primaryKey(),
    orderId: id64('order_id').notNull(),
    fromStatus: text('from_status'),
    toStatus: text('to_status').notNull(),
    at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('order_events_order_idx').on(t.orderId)],
);

export const outbox = ordersSchema.table(
  'outbox',
  {
    id: id64('id').primaryKey(),
    topic: text('topic').notNull(),
    aggregateId: id64('aggregate_id').notNull(),
    payload: jsonb('payload').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    publishedAt: timestamp('published_at', { withTimezone: true }),
  },
  (t) => [
    index('outbox_pending_idx')
      .on(t.id)
      .where(sql`${t.publishedAt} is null`),
  ],
);

export const inbox = ordersSchema.table(
  'inbox',
  {
    messageId: id64('message_id').notNull(),
    consumer: text('consumer').notNull(),
    receivedAt: timestamp('received_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.messageId, t.consumer] })],
);
