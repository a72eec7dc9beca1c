/**
 * The state of one run while it executes, shared by the phases
 * (steady state, load + fault timeline, settle, analyse): the run's identity
 * and experiment, how it is being stopped (abort vs. error), the state it
 * reached, and the event sink. Configuration stays on the experiment; what
 * happened is kept here.
 */
import { setMaxListeners } from 'node:events';
import { eq } from 'drizzle-orm';
import { AppError } from '../../core/errors.js';
import { runs, type TRunState } from '../../db/schema/index.js';
import type { TExperiment } from '../../experiments/index.js';
import type { TLoadResult, TScenario } from '../../loadtests/index.js';
import type { TScrapeTick } from '../collectors/index.js';
import type { TPlatform } from '../platform.js';
import type { RunEventSink } from './event-sink.js';
import type { TRunEvent, TStoredRunEvent } from './events.js';
import { transitionRun } from './lifecycle.js';
import type { TConsistencyBaseline, TRunnerDeps, TSettleOutcome, TSystemUnderTest } from './ports.js';

export interface ExecuteRunOptions {
  platform: TPlatform;
  deps: TRunnerDeps;
  /** Identity of this worker process (hostname:pid:random), stored on the run. */
  workerId: string;
  /**
   * Heartbeat and lock renewal period.
   * @defaultValue 2000
   */
  heartbeatMs?: number;
  /**
   * Target lock expiry; must exceed a few heartbeats.
   * @defaultValue 15000
   */
  lockTtlMs?: number;
  /**
   * Metrics scrape period.
   * @defaultValue 1000
   */
  scrapeIntervalMs?: number;
  /**
   * How long the steady state may take to hold (instances restarting) before the run is aborted.
   * @defaultValue 30000
   */
  steadyStateWaitMs?: number;
  /**
   * Requests sent through the gateway in the steady-state check.
   * @defaultValue 5
   */
  steadyStateProbes?: number;
  /**
   * How often the shop is asked whether it has settled after the load.
   * @defaultValue 500
   */
  settlePollMs?: number;
  /**
   * Longest a run may take before it is ended errored.
   * @defaultValue twice the planned load + quiescence, plus 2 minutes
   */
  timeBudgetMs?: number;
  /**
   * A segment of a split load (`load.segments`) whose worker says nothing for this long ends the run errored.
   * @defaultValue 10000
   */
  segmentHeartbeatTimeoutMs?: number;
  /** Aborts the run when the worker shuts down. */
  signal?: AbortSignal;
  /** Every stored event (the CLI's in-process progress display). */
  onEvent?: (e: TStoredRunEvent) => void;
  /** Collector CPU accounting hook (bench). */
  onCollectorTick?: (tick: TScrapeTick) => void;
}

/** How a run that did not complete ended: stopped on purpose (aborted) or broken (errored). */
export type TStopKind = 'abort' | 'error';

export class RunContext {
  readonly p: TPlatform;
  readonly deps: TRunnerDeps;
  /** Epoch ms: the run left `queued`. */
  readonly startedAt = Date.now();
  private readonly ctl = new AbortController();
  /** The last state this process moved the run to. */
  state: TRunState = 'queued';
  abortReason: string | undefined;
  errorReason: string | undefined;
  scenario: TScenario | undefined;
  load: TLoadResult | undefined;
  baseline: TConsistencyBaseline | undefined;
  settle: TSettleOutcome | undefined;

  constructor(
    readonly o: ExecuteRunOptions,
    readonly runId: string,
    readonly experiment: TExperiment,
    readonly reportDir: string | null,
    readonly sink: RunEventSink,
    /** What the run is against: the shop or a target file (the phases ask it, never the shop directly). */
    readonly sut: TSystemUnderTest,
  ) {
    this.p = o.platform;
    this.deps = o.deps;
    // the load engine listens on this signal once per VU: hundreds of listeners are expected
    setMaxListeners(0, this.ctl.signal);
  }

  /** Aborted on every way the run is stopped early (condition, request, halt, error, shutdown). */
  get signal(): AbortSignal {
    return this.ctl.signal;
  }

  /** Stop the run; the first reason wins. */
  abort(reason: string, kind: TStopKind = 'abort'): void {
    if (this.ctl.signal.aborted) return;
    if (kind === 'error') this.errorReason = reason;
    else this.abortReason = reason;
    this.ctl.abort(new Error(reason));
  }

  /** Mark the run stopped by an exception nobody named (keeps the signal's contract: aborted once stopped). */
  fail(e: unknown): void {
    if (!this.ctl.signal.aborted) this.ctl.abort(e);
  }

  throwIfStopped(): void {
    if (this.ctl.signal.aborted) throw this.ctl.signal.reason;
  }

  /** The terminal state and reason of a run that did not complete. */
  stopOutcome(e: unknown, describe: (e: unknown) => string): { ended: 'aborted' | 'errored'; reason: string } {
    const ended = this.abortReason && !this.errorReason ? 'aborted' : 'errored';
    return { ended, reason: (ended === 'aborted' ? this.abortReason : this.errorReason) ?? describe(e) };
  }

  emit(e: TRunEvent): Promise<void> {
    return this.sink.emit(e);
  }

  /** Guarded transition; a run ended elsewhere (sweeper, abort before start) is a CONFLICT. */
  async moveTo(to: TRunState, reason?: string): Promise<void> {
    if (!(await transitionRun(this.p.db, this.runId, to, { reason, workerId: this.o.workerId }))) {
      const [r] = await this.p.db.select({ state: runs.state, reason: runs.reason }).from(runs).where(eq(runs.id, this.runId));
      throw new AppError('CONFLICT', `run was ended elsewhere (${r?.state}: ${r?.reason ?? ''}) while moving to ${to}`);
    }
    this.state = to;
    await this.emit({ type: 'phase', phase: to, ...(reason ? { reason } : {}) });
  }
}
