/**
 * The run lifecycle: one experiment execution, from steady-state check to
 * verdict, with every fault removed on every path out. One module per phase;
 * this file only sequences them around one RunContext.
 *
 *   queued ─▶ steady_state ─▶ running ───────────────▶ recovering ─▶ analysing ─▶ passed|failed
 *   definition  observers,      load + fault timeline    faults gone,   collectors
 *   (schema),   plan + faults,  (apply/remove; lever     settle (poll   stopped,
 *   lever,      health probes,  asked before each        isSettled, up  analysis+report
 *   lock        baseline        apply), abort conditions to quiescence) (analyse-store)
 *     │  (run-plan, steady-state)  (fault-timeline, load-phase) (settle)
 *     │            │              │                        │
 *     └────────────┴──────────────┴────────────────────────┴──▶ aborted (condition, request, halt)
 *                                                               errored (exception, lost lock, budget)
 *   stop (any reason): timeline cancelled ▸ active faults removed at once (window ends at the stop)
 *   finally: remove faults ▸ stop guards ▸ stop collectors, clear run context ▸ release lock
 *
 * A worker that dies mid-run leaves the run non-terminal with a stale
 * heartbeat: the stall sweeper ends it `errored`, and the fault reconciler
 * (run ended / holder gone) removes what it had applied.
 */
import { eq } from 'drizzle-orm';
import { AppError, toAppError } from '../../core/errors.js';
import { runs, type TRunState } from '../../db/schema/index.js';
import type { TExperiment } from '../../experiments/index.js';
import type { TPlatform } from '../platform.js';
import { endStoppedRun, finishRun } from './analyse-store.js';
import { RunEventSink } from './event-sink.js';
import { FaultTimeline } from './fault-timeline.js';
import { isTerminal, transitionRun } from './lifecycle.js';
import { runLoadPhase } from './load-phase.js';
import { TargetLock } from './lock.js';
import type { TSystemUnderTest } from './ports.js';
import { RunContext, type ExecuteRunOptions } from './run-context.js';
import { parseStoredExperiment } from './run-definition.js';
import { RunGuards } from './run-guards.js';
import { RunObservers } from './run-observers.js';
import { planRun } from './run-plan.js';
import { breakerObservationEnd, settleShop } from './settle.js';
import { runSteadyState } from './steady-state.js';
import { faultExpiry } from './timeline.js';

export type { ExecuteRunOptions } from './run-context.js';
export { steadyStateChecks } from './steady-state.js';

export class TargetBusyError extends Error {
  constructor(
    readonly target: string,
    readonly holder: string | null,
  ) {
    super(`target ${target} is busy (run ${holder ?? 'unknown'})`);
  }
}

/**
 * Execute one queued run to its end. Returns the final state. Throws only
 * TargetBusyError (the caller retries later) or when the run row is missing.
 */
export async function executeRun(runId: string, o: ExecuteRunOptions): Promise<TRunState> {
  const p = o.platform;
  const [row] = await p.db.select().from(runs).where(eq(runs.id, runId));
  if (!row) throw new AppError('NOT_FOUND', `run ${runId} not found`);
  const sink = new RunEventSink(p.db, p.redis, p.prefix, runId, o.onEvent);
  if (isTerminal(row.state)) return row.state;
  // A previous attempt of this job died mid-run (BullMQ handed the stalled job to us).
  if (row.state !== 'queued') return endUnstarted(p, sink, 'errored', `worker ${row.workerId ?? '?'} stopped during ${row.state}; the run cannot be resumed`);

  const start = await mayStart(o, row.definition);
  if ('refused' in start) return endUnstarted(p, sink, start.refused.ended, start.refused.reason);
  let sut: TSystemUnderTest;
  try {
    sut = await o.deps.systemUnderTest(start.experiment, p, o.deps);
  } catch (e) {
    return endUnstarted(p, sink, 'errored', `target ${start.experiment.target}: ${toAppError(e).message}`);
  }

  const lock = new TargetLock(p.redis, row.target, runId, o.lockTtlMs ?? 15_000, p.prefix);
  if (!(await lock.acquire())) throw new TargetBusyError(row.target, await TargetLock.holder(p.redis, row.target, p.prefix));

  const ctx = new RunContext(o, runId, start.experiment, row.reportDir, sink, sut);
  const guards = new RunGuards(ctx, lock);
  const observers = new RunObservers(ctx);
  let timeline: FaultTimeline | undefined;
  let unprepare: (() => Promise<void>) | undefined;
  try {
    await ctx.moveTo('steady_state');
    await guards.start();
    unprepare = await sut.prepare();
    const firstTick = await observers.start();
    const plan = await planRun(ctx);
    ctx.scenario = plan.scenario;
    guards.armBudget(plan.budgetMs);
    await runSteadyState(ctx, observers, firstTick);

    timeline = newTimeline(ctx, plan.faults);
    await ctx.moveTo('running');
    await runLoadPhase(ctx, plan.scenario, timeline, plan.segments);
    // Every path out of `running` removes the faults before anything else.
    await timeline.removeAll();
    ctx.throwIfStopped();

    await ctx.moveTo('recovering');
    ctx.settle = await settleShop(ctx, {
      maxMs: ctx.experiment.quiescence,
      pollMs: o.settlePollMs,
      observeUntil: breakerObservationEnd(ctx.experiment, timeline.windows),
    });
    ctx.throwIfStopped();

    await ctx.moveTo('analysing');
    await observers.stop();
    await finishRun(ctx, timeline.windows);
  } catch (e) {
    await timeline?.removeAll();
    const { ended, reason } = ctx.stopOutcome(e, (x) => toAppError(x).message);
    ctx.fail(e);
    await observers.stop().catch(() => undefined);
    await endStoppedRun(ctx, ended, reason, timeline?.windows ?? []);
  } finally {
    await timeline?.removeAll().catch(() => undefined);
    // after the faults: a target's proxies are removed only once nothing is applied to them
    await unprepare?.().catch((e: unknown) => ctx.emit({ type: 'note', level: 'warn', msg: `target clean-up failed: ${toAppError(e).message}` }));
    guards.stop();
    await observers.close();
    await lock.release().catch(() => undefined);
    await sink.flush();
  }
  const [after] = await p.db.select({ state: runs.state }).from(runs).where(eq(runs.id, runId));
  return after?.state ?? ctx.state;
}

/**
 * Whether a queued run may start: its stored definition must pass the experiment schema
 * (else errored, naming the field) and the safety lever must be released (else aborted).
 */
async function mayStart(
  o: ExecuteRunOptions,
  definition: unknown,
): Promise<{ experiment: TExperiment } | { refused: { ended: 'aborted' | 'errored'; reason: string } }> {
  let experiment: TExperiment;
  try {
    experiment = parseStoredExperiment(definition);
  } catch (e) {
    return { refused: { ended: 'errored', reason: toAppError(e).message } };
  }
  try {
    const lever = await o.deps.leverState(o.platform.db);
    if (lever.engaged) return { refused: { ended: 'aborted', reason: `halted by ${lever.by}: ${lever.reason}` } };
  } catch (e) {
    return { refused: { ended: 'errored', reason: `not started: the safety lever could not be read (${toAppError(e).message})` } };
  }
  return { experiment };
}

/** End a run that never got going (refused, or left mid-run by a dead worker) with its phase and verdict events. */
async function endUnstarted(p: TPlatform, sink: RunEventSink, ended: 'aborted' | 'errored', reason: string): Promise<TRunState> {
  if (await transitionRun(p.db, sink.runId, ended, { reason })) {
    await sink.emit({ type: 'phase', phase: ended, reason });
    await sink.emit({ type: 'verdict', verdict: ended, reason });
  }
  await sink.flush();
  const [after] = await p.db.select({ state: runs.state }).from(runs).where(eq(runs.id, sink.runId));
  return after?.state ?? ended;
}

/**
 * The run's fault timeline: the lever is asked before each apply, a refused or failed apply
 * stops the run, and stopping the run (for any reason) cancels the timeline and removes its
 * active faults at once, so their windows end at the stop.
 */
function newTimeline(ctx: RunContext, faults: ConstructorParameters<typeof FaultTimeline>[0]): FaultTimeline {
  const p = ctx.p;
  const timeline = new FaultTimeline(faults, {
    deps: { applyFault: (spec, fctx) => ctx.sut.applyFault(spec, fctx) },
    faultContext: (f, t0) => ({ ...ctx.sut.faultUrls, db: p.db, runId: ctx.runId, expiresAt: faultExpiry(t0, f) }),
    emit: (e) => ctx.emit(e),
    mayApply: async () => {
      const lever = await ctx.deps.leverState(p.db);
      return lever.engaged ? `halted by ${lever.by}: ${lever.reason}` : undefined;
    },
    onStop: (reason, kind) => ctx.abort(reason, kind === 'halt' ? 'abort' : 'error'),
  });
  ctx.signal.addEventListener('abort', () => void timeline.removeAll(), { once: true });
  return timeline;
}
