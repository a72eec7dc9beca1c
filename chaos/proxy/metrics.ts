/**
 * `/metrics` (Toxiproxy's `-proxy-metrics` / `-runtime-metrics`): byte
 * counters per proxy and direction, read from the sockets' own counters at
 * scrape time so the fast path stays free of per-chunk bookkeeping.
 */
import { Counter, Registry, collectDefaultMetrics } from 'prom-client';
import { proxyLabels, type ProxyCollection, type TProxyLabels } from './collection.js';
import { addTotals, type TByteTotals } from './proxy.js';

/** Which metric families to serve. */
export interface TMetricsOptions {
  /** `toxiproxy_proxy_received_bytes_total` / `toxiproxy_proxy_sent_bytes_total`. @defaultValue false */
  proxyMetrics?: boolean;
  /** Process and Node.js runtime metrics (Toxiproxy serves Go's runtime metrics here). @defaultValue false */
  runtimeMetrics?: boolean;
}

export interface TMetricsEndpoint {
  contentType: string;
  render(): Promise<string>;
}

/** The /metrics endpoint, or null when no metric family is enabled (the route then does not exist). */
export function metricsEndpoint(collection: ProxyCollection, opts: TMetricsOptions): TMetricsEndpoint | null {
  if (!opts.proxyMetrics && !opts.runtimeMetrics) return null;
  const registry = new Registry();
  if (opts.runtimeMetrics) collectDefaultMetrics({ register: registry });
  if (opts.proxyMetrics) {
    const labelNames = ['direction', 'listener', 'proxy', 'upstream'] as const;
    const snapshot = (): { labels: TProxyLabels; totals: TByteTotals }[] => {
      const byKey = new Map<string, { labels: TProxyLabels; totals: TByteTotals }>();
      for (const [k, v] of collection.retired) byKey.set(k, v);
      for (const p of collection.list().values()) {
        const labels = proxyLabels(p);
        const key = JSON.stringify(labels);
        const prev = byKey.get(key);
        byKey.set(key, { labels, totals: prev ? addTotals(prev.totals, p.byteTotals()) : p.byteTotals() });
      }
      return [...byKey.values()];
    };
    const counter = (name: string, help: string, pick: (t: TByteTotals, d: 'upstream' | 'downstream') => number): void => {
      new Counter({
        name,
        help,
        labelNames,
        registers: [registry],
        collect() {
          this.reset();
          for (const { labels, totals } of snapshot()) {
            for (const direction of ['upstream', 'downstream'] as const) {
              this.inc({ direction, listener: labels.listener, proxy: labels.proxy, upstream: labels.upstream }, pick(totals, direction));
            }
          }
        },
      });
    };
    counter('toxiproxy_proxy_received_bytes_total', 'The total bytes received from the source', (t, d) =>
      d === 'upstream' ? t.upstreamReceived : t.downstreamReceived,
    );
    counter('toxiproxy_proxy_sent_bytes_total', 'The total bytes sent to the destination', (t, d) => (d === 'upstream' ? t.upstreamSent : t.downstreamSent));
  }
  return { contentType: registry.contentType, render: () => registry.metrics() };
}
