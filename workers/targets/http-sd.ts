/**
 * Prometheus HTTP service discovery (`metrics.http_sd`): a URL answering a
 * JSON array of target groups, `[{ "targets": ["host:port"], "labels": {…} }]`
 * — the format a faultline supervisor serves at `/sd/prometheus`. Each target
 * is scraped at `<__scheme__>://<host:port><__metrics_path__>`, defaults
 * `http` and `/metrics`, as Prometheus does. A target run resolves it at the
 * start and again whenever the collector re-reads its instances, so an
 * instance that appears (or restarts on a new port) mid-run is followed.
 */
import { z } from 'zod';

const TargetGroupsSchema = z.array(
  z.object({
    targets: z.array(z.string().regex(/^[^\s/]+:\d{1,5}$/, 'expected "host:port"')),
    labels: z.record(z.string(), z.string()).optional(),
  }),
);

/** One discovered scrape target. */
export interface THttpSdTarget {
  /** `host:port` as listed. */
  address: string;
  /** The URL scraped: scheme, address and metrics path. */
  url: string;
  labels: Record<string, string>;
}

/** The scrape targets in an http_sd answer (already JSON-parsed); throws naming what is wrong with its shape. */
export function parseHttpSd(body: unknown): THttpSdTarget[] {
  const r = TargetGroupsSchema.safeParse(body);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new Error(`not the http_sd format (a JSON array of {targets: ["host:port"], labels}): ${i.path.join('.') || 'answer'}: ${i.message}`);
  }
  return r.data.flatMap((g) =>
    g.targets.map((address) => {
      const labels = g.labels ?? {};
      const scheme = labels.__scheme__ === 'https' ? 'https' : 'http';
      const metricsPath = labels.__metrics_path__?.startsWith('/') ? labels.__metrics_path__ : '/metrics';
      return { address, url: `${scheme}://${address}${metricsPath}`, labels };
    }),
  );
}

/** GET the http_sd URL and read its targets. */
export async function resolveHttpSd(url: string, timeoutMs = 3000): Promise<THttpSdTarget[]> {
  const r = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  const text = await r.text();
  if (!r.ok) throw new Error(`GET ${url} → HTTP ${r.status}`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`GET ${url} answers no JSON (${(r.headers.get('content-type') ?? 'no content type').split(';')[0]}): ${text.slice(0, 60)}`);
  }
  return parseHttpSd(json);
}
