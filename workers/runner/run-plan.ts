/**
 * The run plan, derived from the experiment (never mutating it): the
 * scenario with the experiment's overrides, the planned load length, the
 * time budget, and the timed faults from the fault planner (the
 * experiment's faults plus an expanded nemesis schedule).
 */
import type { TTimedFault } from '../../experiments/index.js';
import type { TScenario } from '../../loadtests/index.js';
import { resolveFaults } from './plan-faults.js';
import type { RunContext } from './run-context.js';
import { executorDurationMs } from './timeline.js';

/** Load length assumed when the scenario has no fixed one (an open-ended executor). */
const UNKNOWN_LOAD_MS = 10 * 60_000;

export interface TRunPlan {
  scenario: TScenario;
  /** Planned load length (ms). */
  loadMs: number;
  /** Longest the run may take before it is ended errored (ms). */
  budgetMs: number;
  faults: TTimedFault[];
  /** Execution segments of the load (`load.segments`, else the scenario's, else 1); more than 1: split over workers. */
  segments: number;
}

export async function planRun(ctx: RunContext): Promise<TRunPlan> {
  const x = ctx.experiment;
  const base = ctx.deps.scenarioFor(await ctx.deps.loadScenario(x.load.scenario), x.load, ctx.sut.entryUrl);
  const scenario = ctx.sut.adaptScenario?.(base) ?? base;
  // scenario durations are k6 durations (`1m30s`, bare numbers in ms): executorDurationMs reads them so
  const loadMs = executorDurationMs(scenario.load) ?? UNKNOWN_LOAD_MS;
  const budgetMs = ctx.o.timeBudgetMs ?? 2 * (loadMs + x.quiescence) + 120_000;
  const faults = await resolveFaults(x, { topology: () => ctx.sut.topology(), loadDurationMs: loadMs });
  const segments = x.load.segments ?? scenario.segments ?? 1;
  return { scenario, loadMs, budgetMs, faults, segments };
}
