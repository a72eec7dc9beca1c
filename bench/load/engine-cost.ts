/**
 * The engine's own CPU cost per iteration, without a server or sockets: a
 * stand-in dispatcher answers every request at once (while holding an abort
 * listener on the request's signal, as undici does). CPU time (user+system)
 * of this process over started iterations is robust to a busy machine, where
 * wall-clock rates are not.
 *
 *   npx tsx bench/load/engine-cost.ts [rate=5000] [seconds=3] [inflightMs=5]
 */
import type { Dispatcher } from 'undici';
import { runEngine } from '../../loadtests/engine/engine.js';
import { parseScenario, type TLoadResult } from '../../loadtests/index.js';

/** Answers 200 after `delayMs` (a loopback round trip), holding an abort listener meanwhile. */
export function instantDispatcher(delayMs: number): Dispatcher {
  const body = { dump: async () => undefined, text: async () => '{"products":[]}' };
  return {
    request(opts: { signal?: AbortSignal }) {
      return new Promise((resolve, reject) => {
        const onAbort = () => {
          clearTimeout(timer);
          reject(Object.assign(new Error('aborted'), { code: 'UND_ERR_ABORTED' }));
        };
        opts.signal?.addEventListener('abort', onAbort, { once: true });
        const timer = setTimeout(() => {
          opts.signal?.removeEventListener('abort', onAbort);
          resolve({ statusCode: 200, headers: {}, body });
        }, delayMs);
      });
    },
    close: async () => undefined,
    destroy: async () => undefined,
  } as unknown as Dispatcher;
}

export async function engineCost(rate: number, secs: number, inflightMs: number): Promise<{ r: TLoadResult; cpuUs: number }> {
  const s = parseScenario(`name: cost
setup: { users: 0, products: 0 }
mix: { browse: 1 }
load: { executor: constant-arrival-rate, rate: ${rate}, duration: ${secs}s, preAllocatedVUs: ${Math.max(50, Math.ceil((rate * inflightMs) / 1000) * 4)}, maxVUs: ${Math.max(100, rate / 5)} }
http: { timeout: 10s }
`);
  const cpu0 = process.cpuUsage();
  const r = await runEngine(s, { baseUrl: 'http://127.0.0.1:9', collectHistory: false, dispatcher: instantDispatcher(inflightMs) });
  const cpu = process.cpuUsage(cpu0);
  return { r, cpuUs: cpu.user + cpu.system };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [rate = 5000, secs = 3, inflight = 5] = process.argv.slice(2).map(Number);
  const { r, cpuUs } = await engineCost(rate, secs, inflight);
  const it = r.metrics.iterations?.values.count ?? 0;
  console.log(
    JSON.stringify({
      rate,
      scheduled: rate * secs,
      iterations: it,
      dropped: r.metrics.dropped_iterations?.values.count ?? 0,
      lagP99: r.metrics.iteration_start_lag?.values['p(99)'],
      cpuUsPerIteration: +(cpuUs / Math.max(1, it)).toFixed(1),
    }),
  );
}
