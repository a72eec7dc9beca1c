/**
 * Child process of the collectors bench: a fault proxy and the supervised
 * shop on free ports, then load through the gateway when told. Runs apart
 * from the bench process so the bench's CPU time is the collectors' alone.
 *
 * stdout: `ready {"supervisorUrl","gatewayUrl"}` then `done` after the load.
 * stdin: `load <rate> <seconds>` starts the load; `stop` shuts down.
 */
import { createInterface } from 'node:readline';
import { startFaultProxy } from '../../chaos/index.js';
import { runEngine } from '../../loadtests/engine/engine.js';
import { loadScenarioFile, withOverrides } from '../../loadtests/scenario.js';
import { dropShopDatabase } from '../../shop/index.js';
import { startSupervisor } from '../../shop/supervisor/index.js';

const portBase = Number(process.env.BENCH_PORT_BASE ?? 19080);
const shopDb = process.env.BENCH_SHOP_DB!;
const proxy = await startFaultProxy({ host: '127.0.0.1', port: 0 });
const sup = await startSupervisor({
  portBase,
  adminPort: 0,
  databaseUrl: shopDb,
  toxiproxyUrl: proxy.url,
  logDir: null,
  env: { SHOP_REGISTRY_PREFIX: `flbenchc${portBase}:registry`, SHOP_REDIS_PREFIX: `flbenchc${portBase}`, LOG_LEVEL: 'info' },
});
process.stdout.write(`ready ${JSON.stringify({ supervisorUrl: sup.url, gatewayUrl: sup.gatewayUrl })}\n`);

for await (const line of createInterface({ input: process.stdin })) {
  const [cmd, rate, seconds] = line.trim().split(/\s+/);
  if (cmd === 'load') {
    const base = await loadScenarioFile(new URL('../../loadtests/scenarios/checkout-mix.yaml', import.meta.url).pathname);
    const s = withOverrides(base, { rate: Number(rate), duration: `${seconds}s`, baseUrl: sup.gatewayUrl });
    await runEngine(s, { baseUrl: sup.gatewayUrl, collectHistory: false });
    process.stdout.write('done\n');
  } else if (cmd === 'stop') break;
}
await sup.close();
await proxy.close();
await dropShopDatabase(shopDb).catch(() => undefined);
process.exit(0);
