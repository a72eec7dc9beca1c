/**
 * Next.js start-up hook of the console: bring the platform database up to
 * date so a console started on a fresh database works without a separate
 * `npm run db:migrate`. Failure is logged, not fatal: pages then show the
 * database error where it matters.
 */
export async function register(): Promise<void> {
  if (process.env.NEXT_RUNTIME !== 'nodejs') return;
  const { loadConfig } = await import('./core/config.js');
  const { migrateDatabase } = await import('./db/migrate.js');
  try {
    await migrateDatabase(loadConfig().DATABASE_URL);
  } catch (e) {
    console.error(`[console] database migration failed: ${e instanceof Error ? e.message : String(e)}`);
  }
}
