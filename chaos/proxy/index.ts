/**
 * The fault proxy: a Toxiproxy 2.12-compatible server (same HTTP API, same
 * toxics) that faultline runs where no Toxiproxy binary is available.
 *
 *   const fp = await startFaultProxy({ host: '127.0.0.1', port: 8474 });
 *   // … toxiproxy-node-client / curl against fp.url …
 *   await fp.close();
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AppError } from '../../core/errors.js';
import { apiHandler } from './api.js';
import { ProxyCollection } from './collection.js';
import { metricsEndpoint } from './metrics.js';
import { mulberry32 } from '../../core/random.js';

export { TOXIPROXY_VERSION } from './api.js';
export { TOXICS } from './toxics/index.js';

/** Options of {@link startFaultProxy}. */
export interface TFaultProxyOptions {
  /** Interface of the HTTP API. @defaultValue '127.0.0.1' */
  host?: string;
  /** Port of the HTTP API; 0 picks a free one. @defaultValue 8474 */
  port?: number;
  /** Seed for toxicity rolls, jitter and slicing, to make a run repeatable (Toxiproxy's `-seed`). @defaultValue random */
  seed?: number;
  /** Body of a `/populate` call applied at start (Toxiproxy's `-config` file content). @defaultValue none */
  populate?: string;
  /** Serve byte counters per proxy on /metrics (Toxiproxy's `-proxy-metrics`). @defaultValue false */
  proxyMetrics?: boolean;
  /** Serve process/runtime metrics on /metrics (Toxiproxy's `-runtime-metrics`). @defaultValue false */
  runtimeMetrics?: boolean;
}

export interface TFaultProxy {
  /** `http://host:port` of the API. */
  url: string;
  port: number;
  /** Stop the API and every proxy, closing their connections. */
  close(): Promise<void>;
}

/** A small, fast seeded generator (mulberry32); Math.random when no seed is given. */
export function seededRandom(seed: number | undefined): () => number {
  return seed === undefined ? Math.random : mulberry32(seed);
}

export async function startFaultProxy(opts: TFaultProxyOptions = {}): Promise<TFaultProxy> {
  const host = opts.host ?? '127.0.0.1';
  const port = opts.port ?? 8474;
  const collection = new ProxyCollection({ random: seededRandom(opts.seed) });
  if (opts.populate !== undefined) {
    const r = await collection.populate(opts.populate);
    if (r.error) {
      await collection.closeAll();
      throw new AppError('VALIDATION', `fault proxy config: ${r.error.message}`, {
        issues: [{ path: 'config', message: r.error.message }],
      });
    }
  }
  const metrics = metricsEndpoint(collection, { proxyMetrics: opts.proxyMetrics, runtimeMetrics: opts.runtimeMetrics });
  const server = createServer({ keepAliveTimeout: 60_000 }, apiHandler(collection, metrics));
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      void collection.closeAll();
      reject(
        new AppError(e.code === 'EADDRINUSE' ? 'CONFLICT' : 'UNAVAILABLE', `fault proxy API cannot listen on ${host}:${port}: ${e.code ?? e.message}`, {
          cause: e,
        }),
      );
    });
    server.listen(port, host, () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  let closing: Promise<void> | null = null;
  return {
    url: `http://${shownHost}:${bound}`,
    port: bound,
    close() {
      closing ??= (async () => {
        const stopped = new Promise<void>((r) => server.close(() => r()));
        server.closeAllConnections();
        await collection.closeAll();
        await stopped;
      })();
      return closing;
    },
  };
}
