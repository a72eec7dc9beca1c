/**
 * The run's observers: the system's run context (a faultline supervisor
 * tags every log line with the run id), the metrics collector and the
 * system's log reader. Started before the steady-state check, stopped (with
 * a final scrape) before analysis or when the run is stopped.
 */
import { MetricsCollector, type TScrapeTick } from '../collectors/index.js';
import { recordCollectorLag } from '../self-metrics.js';
import type { TLogReaderHandle } from './ports.js';
import type { RunContext } from './run-context.js';

export class RunObservers {
  private metrics: MetricsCollector | undefined;
  private logs: TLogReaderHandle | undefined;

  constructor(private readonly ctx: RunContext) {}

  /** Tag the system's logs with the run, start the collectors; returns the first scrape. */
  async start(): Promise<TScrapeTick> {
    const { ctx } = this;
    const sut = ctx.sut;
    await sut.setRunContext(ctx.runId);
    this.metrics = new MetricsCollector({
      db: ctx.p.db,
      runId: ctx.runId,
      instances: () => sut.instances(),
      ...(sut.keepMetrics ? { keep: sut.keepMetrics } : {}),
      intervalMs: ctx.o.scrapeIntervalMs ?? 1000,
      onTick: (t) => {
        recordCollectorLag('metrics', (Date.now() - t.t) / 1000);
        ctx.o.onCollectorTick?.(t);
      },
    });
    // the target's own logs (its supervisor's stream, a file, an Elasticsearch index)
    if (sut.logReader) {
      this.logs = sut.logReader({
        store: ctx.p.logStore,
        runId: ctx.runId,
        onBatch: (records) => recordCollectorLag('logs', (Date.now() - Math.max(...records.map((r) => r.time.getTime()))) / 1000),
      });
      await this.logs?.start();
    }
    const first = await this.metrics.tick();
    this.metrics.start();
    return first;
  }

  /** One scrape now (stored like every other). */
  tick(): Promise<TScrapeTick> {
    if (!this.metrics) throw new Error('observers not started');
    return this.metrics.tick();
  }

  /** Stop both collectors with a final scrape so the run's end is recorded. Idempotent. */
  async stop(): Promise<void> {
    const [metrics, logs] = [this.metrics, this.logs];
    this.metrics = undefined;
    this.logs = undefined;
    await Promise.all([metrics?.stop({ finalScrape: true }), logs?.stop()]);
  }

  /** Stop the collectors and clear the supervisor's run context; never throws (the run's end path). */
  async close(): Promise<void> {
    // after the verdict: nothing left to tell the run's followers
    await this.stop().catch(() => undefined);
    await this.ctx.sut.setRunContext(null).catch(() => undefined);
  }
}
