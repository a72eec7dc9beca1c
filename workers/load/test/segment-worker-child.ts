/**
 * A load-only worker in its own process (the `load` role: it takes segments
 * of split loads, never runs), configured from the environment the test
 * passes; prints "ready" once it takes jobs. Tests kill it with SIGKILL.
 */
import { startWorker } from '../../main.js';
import { getPlatform } from '../../platform.js';

const platform = getPlatform({
  databaseUrl: process.env.FL_DATABASE_URL!,
  prefix: process.env.FL_PREFIX!,
  toxiproxyUrl: process.env.FL_TOXIPROXY_URL,
  supervisorUrl: process.env.FL_SUPERVISOR_URL,
  gatewayUrl: process.env.FL_GATEWAY_URL,
  shopDatabaseUrl: process.env.FL_SHOP_DATABASE_URL,
  reportDir: process.env.FL_REPORT_DIR,
});
const w = await startWorker({ platform, roles: ['load'], loadConcurrency: 1, log: (l) => process.stderr.write(`${l}\n`) });
process.stdout.write(`ready ${w.workerId}\n`);
