import { defineConfig } from 'drizzle-kit';

// The shop's own database (one pgSchema per service), separate from the platform's.
export default defineConfig({
  dialect: 'postgresql',
  schema: './shop/db/schema/*.ts',
  out: './shop/migrations',
  schemaFilter: ['users', 'catalog', 'orders', 'payments'],
  dbCredentials: { url: process.env.SHOP_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/faultline_shop' },
});
