import { pgSchema, text, timestamp, integer, uniqueIndex, index, check } from 'drizzle-orm/pg-core';
import { sql } from 'drizzle-orm';
import { id64 } from './types.js';

export const catalogSchema = pgSchema('catalog');

export const products = catalogSchema.table('products', {
  id: id64('id').primaryKey(),
  sku: text('sku').notNull().unique(),
  name: text('name').notNull(),
  priceCents: integer('price_cents').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

/**
 * Conservation: initial = available + reserved + sold. No CHECK on
 * available >= 0 on purpose: the `oversell` bug switch must be able to
 * produce the anomaly the consistency checker looks for.
 */
export const stock = catalogSchema.table('stock', {
  productId: id64('product_id')
    .primaryKey()
    .references(() => products.id),
  initial: integer('initial').notNull(),
  available: integer('available').notNull(),
  reserved: integer('reserved').notNull().default(0),
  sold: integer('sold').notNull().default(0),
  version: integer('version').notNull().default(0),
});

export const reservations = catalogSchema.table(
  'reservations',
  {
    id: id64('id').primaryKey(),
    orderId: id64('order_id').notNull(),
    productId: id64('product_id')
      .notNull()
      .references(() => products.id),
    qty: integer('qty').notNull(),
    /** reserved | committed | released */
    status: text('status').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('reservations_order_product_uq').on(t.orderId, t.productId),
    index('reservations_status_idx').on(t.status),
    check('reservations_status_ck', sql`${t.status} in ('reserved','committed','released')`),
  ],
);
