/**
 * Profile the built-in engine in-process (no worker thread, so --cpu-prof
 * sees it) at one constant arrival rate against the trivial loopback server:
 *
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/load/profile.ts [rate=6000] [seconds=4]
 *
 * Prints what the bench judges (dropped, start-lag p99, event-loop delay);
 * the .cpuprofile opens in Chrome DevTools or `npx tsx bench/load/top-functions.ts <file>`.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { runEngine } from '../../loadtests/engine/engine.js';
import { parseScenario } from '../../loadtests/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const rate = Number(process.argv[2] ?? 6000);
const secs = Number(process.argv[3] ?? 4);

const proc = spawn(process.execPath, [path.join(here, 'server.mjs'), 'trivial'], { stdio: ['ignore', 'pipe', 'inherit'] });
const { port } = JSON.parse(await new Promise<string>((resolve) => proc.stdout!.once('data', (c) => resolve(String(c).split('\n')[0]))));
const s = parseScenario(`name: prof
setup: { users: 0, products: 0 }
mix: { browse: 1 }
load: { executor: constant-arrival-rate, rate: ${rate}, duration: ${secs}s, preAllocatedVUs: ${Math.max(50, rate / 50)}, maxVUs: ${Math.max(100, rate / 5)} }
http: { timeout: 10s }
`);
const eld = monitorEventLoopDelay({ resolution: 1 });
eld.enable();
try {
  const cpu0 = process.cpuUsage();
  const r = await runEngine(s, { baseUrl: `http://127.0.0.1:${port}`, collectHistory: false });
  const cpu = process.cpuUsage(cpu0);
  eld.disable();
  const m = r.metrics;
  console.log(
    JSON.stringify({
      rate,
      scheduled: rate * secs,
      iterations: m.iterations?.values.count ?? 0,
      dropped: m.dropped_iterations?.values.count ?? 0,
      lagP99: m.iteration_start_lag?.values['p(99)'],
      vusMax: m.vus_max?.values.max,
      reqP99: m.http_req_duration?.values['p(99)'],
      loopDelayP99: eld.percentile(99) / 1e6,
      loopDelayMax: eld.max / 1e6,
      // CPU time this process spent per started iteration (user + system): robust to a busy machine
      cpuUsPerIteration: Math.round((cpu.user + cpu.system) / Math.max(1, m.iterations?.values.count ?? 0)),
    }),
  );
} finally {
  proc.kill('SIGTERM');
}
