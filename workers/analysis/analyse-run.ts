/**
 * One call from the runner: everything a finished run recorded in, the
 * report out. SLOs and breakers are pure; consistency is the system under
 * test's checker (a target file's SQL, after settling).
 */
import type { TExperiment } from '../../experiments/index.js';
import { deriveVerdict, REPORT_SCHEMA_VERSION, ReportSchema, type TFaultWindow, type TLoadSecondRow, type TReport } from '../reports/schema.js';
import { breakerTimelines, checkBreakerExpectations, type TBreakerAnalysisOptions } from './breakers.js';
import { evaluateSlos, type TServerSliOptions } from './slo.js';
import type { TConsistencyBaseline, THistoryEventLike, TLogRecord, TMetricSample, TSettleOutcome } from './types.js';

export interface TRunRecord {
  runId: string;
  experiment: TExperiment;
  /** Load start / end (epoch ms): the SLO period of the run. */
  loadStart: number;
  loadEnd: number;
  /** When the run ended (after quiescence). */
  endedAt: number;
  /** How the run ended before analysis. */
  ended: 'completed' | 'aborted' | 'errored';
  /** Abort condition or error text when not completed. */
  endReason?: string;
  engine: string;
  bugs?: string[];
  history: readonly THistoryEventLike[];
  seconds: readonly TLoadSecondRow[];
  samples: readonly TMetricSample[];
  logs: readonly TLogRecord[];
  /** Actual fault times; matched to the experiment's faults by name. */
  faultTimes: readonly { name: string; appliedAt: number | null; removedAt: number | null }[];
  /**
   * Consistency findings taken before the load (captureConsistencyBaseline):
   * the same findings afterwards are reported as pre-existing and do not fail the run.
   * @defaultValue none: every finding is the run's
   */
  baseline?: TConsistencyBaseline;
  /** How the runner waited for the shop to settle (isSettled polled up to maxMs); shown in the report. */
  settle?: TSettleOutcome;
  /** The scenario's k6 thresholds as the load engine judged them; a load test (tag `loadtest`) is judged by them. */
  thresholds?: readonly { metric: string; expression: string; ok: boolean }[];
}

/** Options of analyseRun. */
export interface TAnalyseOptions {
  server?: TServerSliOptions;
  breakers?: TBreakerAnalysisOptions;
  /** @defaultValue Date.now() */
  now?: number;
  /**
   * The consistency checker of the system under test (a target file's SQL invariants,
   * acknowledged writes, history check and trails: target-system). Without one, every
   * invariant the experiment names fails with that error.
   */
  consistency?: (input: {
    invariants: readonly string[];
    history: TRunRecord['history'];
    baseline?: TConsistencyBaseline;
    /** The run and the window its log lines are searched in (violation trails). */
    runId?: string;
    /** When the load started (epoch ms): writes after it that the client never sent are unknown. */
    loadStart?: number;
    window?: { from: number; to: number };
  }) => Promise<{
    invariants: TReport['invariants'];
    infoOps?: TReport['infoOps'];
  }>;
}

/** The fault windows of a run: planned (from the experiment) with actual times. */
export function faultWindows(experiment: TExperiment, times: TRunRecord['faultTimes']): TFaultWindow[] {
  return experiment.faults.map((f) => {
    const actual = times.find((t) => t.name === f.name);
    return {
      name: f.name,
      type: f.fault.type,
      target: Array.isArray(f.fault.target) ? f.fault.target.join(', ') : f.fault.target,
      plannedAtMs: f.at,
      plannedDurationMs: f.duration,
      appliedAt: actual?.appliedAt ?? null,
      removedAt: actual?.removedAt ?? null,
    };
  });
}

/**
 * The consistency verdicts, from the system under test's checker (a target file's SQL invariants,
 * acknowledged writes and history check). Without one, every invariant the experiment names fails
 * with that error: a check that cannot run never passes.
 */
async function judgeConsistency(run: TRunRecord, opts: TAnalyseOptions): Promise<{ invariants: TReport['invariants']; infoOps: TReport['infoOps'] }> {
  const names = run.experiment.expectations.invariants;
  if (names.length === 0) return { invariants: [], infoOps: [] };
  const failAll = (error: string) => ({
    invariants: names.map((name) => ({ name, description: name, pass: false, checked: 0, violations: [], error })),
    infoOps: [],
  });
  if (!opts.consistency) return failAll('the system under test has no consistency checks (its target file declares no databases)');
  try {
    const r = await opts.consistency({
      invariants: names,
      history: run.history,
      ...(run.baseline ? { baseline: run.baseline } : {}),
      runId: run.runId,
      loadStart: run.loadStart,
      window: { from: run.loadStart - 5_000, to: Math.max(run.endedAt, opts.now ?? Date.now()) + 1_000 },
    });
    return { invariants: r.invariants, infoOps: r.infoOps ?? [] };
  } catch (e) {
    return failAll(`consistency checks could not run: ${(e as Error).message}`);
  }
}

/** Analyse a finished run into a validated report. */
export async function analyseRun(run: TRunRecord, opts: TAnalyseOptions = {}): Promise<TReport> {
  const x = run.experiment;
  const faults = faultWindows(x, run.faultTimes);
  const slos = evaluateSlos({
    slos: x.steady_state.slos,
    history: run.history,
    samples: run.samples,
    runStart: run.loadStart,
    runEnd: run.loadEnd,
    server: opts.server,
  });
  const timelines = breakerTimelines(run.samples, run.logs, faults, run.endedAt, opts.breakers);
  const expectations = checkBreakerExpectations(
    x.expectations.breakers,
    timelines,
    faults.map((f) => ({ ...f, duration: f.plannedDurationMs })),
    run.endedAt,
    opts.breakers?.mapping ? { mapping: opts.breakers.mapping } : {},
  );
  const { invariants, infoOps } = await judgeConsistency(run, opts);
  // A load test (a scenario run on its own) is judged by its k6 thresholds too; an
  // experiment's load runs under faults, where its thresholds are expected to fail.
  const judged = x.tags.includes('loadtest') && run.thresholds !== undefined;
  const thresholds = run.thresholds ? { thresholds: run.thresholds.map((t) => ({ ...t })), thresholdsJudged: judged } : {};
  const partial = { slos, breakers: { timelines, expectations }, invariants };
  const { verdict, reason } = deriveVerdict({ ...partial, load: thresholds }, run.ended);
  const requests = run.history.filter((e) => e.type !== 'invoke').length;
  return ReportSchema.parse({
    schemaVersion: REPORT_SCHEMA_VERSION,
    run: {
      id: run.runId,
      experiment: x.name,
      description: x.description,
      target: x.target,
      startedAt: run.loadStart,
      loadEndedAt: run.loadEnd,
      endedAt: run.endedAt,
      tags: x.tags,
      bugs: run.bugs ?? [],
    },
    verdict,
    reason: run.ended === 'completed' ? reason : (run.endReason ?? reason),
    load: { scenario: x.load.scenario, engine: run.engine, requests, dropped: run.seconds.reduce((a, s) => a + s.dropped, 0), ...thresholds },
    faults,
    ...(run.settle ? { settle: run.settle } : {}),
    ...(run.baseline ? { baseline: { capturedAt: run.baseline.capturedAt, findings: run.baseline.findings.length } } : {}),
    ...partial,
    infoOps,
    series: { seconds: [...run.seconds] },
    generatedAt: opts.now ?? Date.now(),
  });
}
