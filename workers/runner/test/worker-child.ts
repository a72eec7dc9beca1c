/**
 * A worker in its own process for the crash test: configured from the
 * environment the test passes, prints "ready" once it takes jobs. The test
 * kills it with SIGKILL mid-run.
 */
import { startWorker } from '../../main.js';
import { getPlatform } from '../../platform.js';

const platform = getPlatform({
  databaseUrl: process.env.FL_DATABASE_URL!,
  prefix: process.env.FL_PREFIX!,
  toxiproxyUrl: process.env.FL_TOXIPROXY_URL!,
  supervisorUrl: process.env.FL_SUPERVISOR_URL!,
  gatewayUrl: process.env.FL_GATEWAY_URL!,
  shopDatabaseUrl: process.env.FL_SHOP_DATABASE_URL!,
  reportDir: process.env.FL_REPORT_DIR!,
});
await startWorker({ platform, heartbeatMs: 500, log: () => undefined });
process.stdout.write('ready\n');
