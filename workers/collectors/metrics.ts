/**
 * Metrics collector: during a run, scrape every running shop instance's
 * `/metrics` each second, keep the families the analysis needs, and store
 * them compactly (series dictionary + narrow samples) with the run id.
 *
 *   tick (1 s, never overlapping) ─▶ instances (supervisor, refreshed every N ticks)
 *        └─▶ GET <instance>/metrics  (parallel, timeout < interval)
 *              └─▶ parseExposition ─▶ resolve series ids (cache, INSERT … ON CONFLICT)
 *                    └─▶ INSERT samples (unnest arrays, one statement per tick)
 */
import type { TDb } from '../../db/client.js';
import { DEFAULT_KEPT_FAMILIES, labelKey, parseExposition, type TScrapedSample } from './prometheus.js';
import type { TInstance } from './supervisor.js';
import { recordCollectorLag } from '../self-metrics.js';

export interface TInstanceScrape {
  instance: string;
  service: string;
  samples: TScrapedSample[];
}

export interface TScrapeTick {
  /** Tick time (epoch ms): the `t` of every sample stored for this tick. */
  t: number;
  scrapes: TInstanceScrape[];
  /** Instances that did not answer (paused, killed, partitioned from us). */
  failed: { instance: string; error: string }[];
}

/** An instance to scrape: `<url>/metrics`, or its own `metricsUrl` (a target's `/actuator/prometheus`). */
export type TScrapeInstance = TInstance & { metricsUrl?: string };

export interface MetricsCollectorOptions {
  db: TDb;
  runId: string;
  /** Where the instances come from (the supervisor's `GET /instances`). */
  instances: () => Promise<TScrapeInstance[]>;
  /**
   * Scrape period.
   * @defaultValue 1000
   */
  intervalMs?: number;
  /**
   * Per-instance scrape timeout; below the interval so a hung instance cannot stall the next tick.
   * @defaultValue 800
   */
  timeoutMs?: number;
  /**
   * Re-read the instance list every this many ticks (instances restart on new pids, same ports).
   * @defaultValue 5
   */
  refreshInstancesEvery?: number;
  /**
   * Metric families stored.
   * @defaultValue DEFAULT_KEPT_FAMILIES
   */
  keep?: readonly string[];
  /** Called after each tick with what was scraped (live abort conditions read it). */
  onTick?: (tick: TScrapeTick) => void;
  /** Called when storing or listing fails; the collector keeps going. */
  onError?: (e: unknown) => void;
}

export interface TCollectorStats {
  ticks: number;
  scrapes: number;
  failedScrapes: number;
  samplesStored: number;
  series: number;
  /** Ticks skipped because the previous one was still running. */
  skippedTicks: number;
}

export class MetricsCollector {
  private readonly o: Required<Omit<MetricsCollectorOptions, 'onTick' | 'onError'>> & Pick<MetricsCollectorOptions, 'onTick' | 'onError'>;
  private readonly seriesIds = new Map<string, number>();
  private instanceList: TScrapeInstance[] = [];
  private timer: NodeJS.Timeout | undefined;
  private inflight: Promise<void> | undefined;
  private running = false;
  readonly stats: TCollectorStats = { ticks: 0, scrapes: 0, failedScrapes: 0, samplesStored: 0, series: 0, skippedTicks: 0 };

  constructor(opts: MetricsCollectorOptions) {
    this.o = { intervalMs: 1000, timeoutMs: 800, refreshInstancesEvery: 5, keep: DEFAULT_KEPT_FAMILIES, ...opts };
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    const loop = () => {
      if (!this.running) return;
      if (this.inflight) this.stats.skippedTicks++;
      else
        this.inflight = this.tick()
          .then(
            () => undefined,
            (e) => this.o.onError?.(e),
          )
          .finally(() => {
            this.inflight = undefined;
          });
      this.timer = setTimeout(loop, this.o.intervalMs - (Date.now() % this.o.intervalMs));
    };
    loop();
  }

  /** Stop ticking and wait for the tick in flight; then take one final scrape so the run's end is recorded. */
  async stop(opts: { finalScrape?: boolean } = {}): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    await this.inflight;
    if (opts.finalScrape) await this.tick().catch((e) => this.o.onError?.(e));
  }

  /** One scrape of every instance, stored. Public so tests and the final scrape can call it. */
  async tick(): Promise<TScrapeTick> {
    const t = Date.now();
    if (this.stats.ticks % this.o.refreshInstancesEvery === 0 || this.instanceList.length === 0) {
      try {
        this.instanceList = (await this.o.instances()).filter((i) => i.state === 'running');
      } catch (e) {
        this.o.onError?.(e);
      }
    }
    this.stats.ticks++;
    const results = await Promise.all(
      this.instanceList.map(async (inst) => {
        try {
          const res = await fetch(inst.metricsUrl ?? `${inst.url.replace(/\/+$/, '')}/metrics`, { signal: AbortSignal.timeout(this.o.timeoutMs) });
          if (!res.ok) throw new Error(`HTTP ${res.status}`);
          const text = await res.text();
          return { ok: true as const, scrape: { instance: inst.id, service: inst.service, samples: parseExposition(text, this.o.keep) } };
        } catch (e) {
          return { ok: false as const, failed: { instance: inst.id, error: (e as Error).message } };
        }
      }),
    );
    const tick: TScrapeTick = { t, scrapes: [], failed: [] };
    for (const r of results) r.ok ? tick.scrapes.push(r.scrape) : tick.failed.push(r.failed);
    this.stats.scrapes += tick.scrapes.length;
    this.stats.failedScrapes += tick.failed.length;
    await this.store(tick);
    // Lag = how long after its tick time this tick's samples were stored.
    recordCollectorLag('metrics', (Date.now() - t) / 1000);
    this.o.onTick?.(tick);
    return tick;
  }

  private async store(tick: TScrapeTick): Promise<void> {
    const pending: { key: string; service: string; instance: string; metric: string; labels: Record<string, string>; lk: string }[] = [];
    const rows: { key: string; value: number }[] = [];
    const pendingKeys = new Set<string>();
    for (const s of tick.scrapes) {
      for (const x of s.samples) {
        const lk = labelKey(x.labels);
        const key = `${s.instance}\u0000${x.metric}\u0000${lk}`;
        if (!this.seriesIds.has(key) && !pendingKeys.has(key)) {
          pendingKeys.add(key);
          pending.push({ key, service: s.service, instance: s.instance, metric: x.metric, labels: x.labels, lk });
        }
        rows.push({ key, value: x.value });
      }
    }
    if (pending.length) await this.resolveSeries(pending);
    if (rows.length === 0) return;
    const ids: number[] = [];
    const values: number[] = [];
    for (const r of rows) {
      const id = this.seriesIds.get(r.key);
      if (id === undefined) continue;
      ids.push(id);
      values.push(r.value);
    }
    await this.o.db.$client.query(
      `INSERT INTO metric_samples (series_id, t, value)
       SELECT s, $2::timestamptz, v FROM unnest($1::int[], $3::float8[]) AS x(s, v)
       ON CONFLICT DO NOTHING`,
      [ids, new Date(tick.t).toISOString(), values],
    );
    this.stats.samplesStored += ids.length;
  }

  private async resolveSeries(
    pending: { key: string; service: string; instance: string; metric: string; labels: Record<string, string>; lk: string }[],
  ): Promise<void> {
    const cols = [
      pending.map((p) => p.service),
      pending.map((p) => p.instance),
      pending.map((p) => p.metric),
      pending.map((p) => JSON.stringify(p.labels)),
      pending.map((p) => p.lk),
    ];
    // ON CONFLICT DO NOTHING returns only new rows; series already stored (a restarted collector) are read back below.
    await this.o.db.$client.query(
      `INSERT INTO metric_series (run_id, service, instance, metric, labels, label_key)
       SELECT $1, s, i, m, l::jsonb, k FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[]) AS x(s, i, m, l, k)
       ON CONFLICT (run_id, instance, metric, label_key) DO NOTHING`,
      [this.o.runId, ...cols],
    );
    const r = await this.o.db.$client.query<{ id: number; instance: string; metric: string; label_key: string }>(
      `SELECT ms.id, ms.instance, ms.metric, ms.label_key FROM metric_series ms
       JOIN unnest($2::text[], $3::text[], $4::text[]) AS x(i, m, k) ON ms.instance = x.i AND ms.metric = x.m AND ms.label_key = x.k
       WHERE ms.run_id = $1`,
      [this.o.runId, cols[1], cols[2], cols[4]],
    );
    for (const row of r.rows) this.seriesIds.set(`${row.instance}\u0000${row.metric}\u0000${row.label_key}`, row.id);
    this.stats.series = this.seriesIds.size;
  }
}

/** One stored sample as the analysis reads it (docs/architecture.md "Runs"). */
export interface TMetricSampleRow {
  /** Epoch ms. */
  t: number;
  instance: string;
  service: string;
  metric: string;
  labels: Record<string, string>;
  value: number;
}

export interface ReadSamplesFilter {
  /** Sample names (e.g. `circuit_breaker_state`, `http_server_request_duration_seconds_bucket`); all when absent. */
  metrics?: string[];
  service?: string;
  /** Epoch ms, inclusive. */
  from?: number;
  /** Epoch ms, exclusive. */
  to?: number;
}

/** A run's stored samples, oldest first. */
export async function readSamples(db: TDb, runId: string, f: ReadSamplesFilter = {}): Promise<TMetricSampleRow[]> {
  const r = await db.$client.query<{ t: Date; instance: string; service: string; metric: string; labels: Record<string, string>; value: number }>(
    `SELECT s.t, ms.instance, ms.service, ms.metric, ms.labels, s.value
       FROM metric_series ms JOIN metric_samples s ON s.series_id = ms.id
      WHERE ms.run_id = $1
        AND ($2::text[] IS NULL OR ms.metric = ANY($2))
        AND ($3::text IS NULL OR ms.service = $3)
        AND ($4::timestamptz IS NULL OR s.t >= $4)
        AND ($5::timestamptz IS NULL OR s.t < $5)
      ORDER BY s.t, ms.id`,
    [
      runId,
      f.metrics ?? null,
      f.service ?? null,
      f.from !== undefined ? new Date(f.from).toISOString() : null,
      f.to !== undefined ? new Date(f.to).toISOString() : null,
    ],
  );
  return r.rows.map((x) => ({ t: x.t.getTime(), instance: x.instance, service: x.service, metric: x.metric, labels: x.labels, value: x.value }));
}
