/**
 * What stops a run from outside its phases: the heartbeat and target-lock
 * renewal (a lost lock ends it errored), the control channel (abort requests
 * from the console, the CLI and the safety lever), the time budget, and the
 * worker's shutdown signal.
 */
import type { Redis } from 'ioredis';
import { runControlChannel } from './events.js';
import { heartbeat } from './lifecycle.js';
import type { TargetLock } from './lock.js';
import type { RunContext } from './run-context.js';

/** The run's reason for an abort message (`halted by …` from the safety lever is kept as is). */
export function abortReasonOf(msg: string): string | undefined {
  let m: { action?: string; reason?: string; source?: string };
  try {
    m = JSON.parse(msg) as typeof m;
  } catch {
    return undefined; // not ours
  }
  if (m?.action !== 'abort') return undefined;
  if (!m.reason) return 'abort requested';
  // the lever (workers/runs/engage-lever.ts) sends its `halted by <by>: <reason>` with source 'lever'
  return m.source === 'lever' || /^halted by /.test(m.reason) ? m.reason : `abort requested: ${m.reason}`;
}

export class RunGuards {
  private hbTimer: NodeJS.Timeout | undefined;
  private budgetTimer: NodeJS.Timeout | undefined;
  private sub: Redis | undefined;
  private readonly onShutdown = () => this.ctx.abort('worker shutting down', 'error');

  constructor(
    private readonly ctx: RunContext,
    private readonly lock: TargetLock,
  ) {
    ctx.o.signal?.addEventListener('abort', this.onShutdown, { once: true });
  }

  /** Heartbeat, lock renewal and the control channel; call once the run has left `queued`. */
  async start(): Promise<void> {
    const { ctx } = this;
    this.hbTimer = setInterval(() => {
      void heartbeat(ctx.p.db, ctx.runId).catch(() => undefined);
      void this.lock
        .renew()
        .then((ok) => {
          if (!ok) ctx.abort('lost the target lock (heartbeat too late); another run may hold the target', 'error');
        })
        .catch(() => undefined);
    }, ctx.o.heartbeatMs ?? 2000);
    this.sub = ctx.p.newRedis({ subscriber: true });
    this.sub.on('message', (_ch, msg: string) => {
      const reason = abortReasonOf(msg);
      if (reason) ctx.abort(reason);
    });
    await this.sub.subscribe(runControlChannel(ctx.runId, ctx.p.prefix));
  }

  /**
   * A run whose worker is alive but stuck (a hung load, a proxy that never answers) still
   * heartbeats: the time budget ends it errored instead of holding the target forever.
   */
  armBudget(budgetMs: number): void {
    if (this.budgetTimer) clearTimeout(this.budgetTimer);
    this.budgetTimer = setTimeout(() => this.ctx.abort(`run exceeded its time budget of ${Math.round(budgetMs / 1000)}s`, 'error'), budgetMs);
  }

  stop(): void {
    if (this.hbTimer) clearInterval(this.hbTimer);
    if (this.budgetTimer) clearTimeout(this.budgetTimer);
    this.ctx.o.signal?.removeEventListener('abort', this.onShutdown);
    this.sub?.disconnect();
  }
}
