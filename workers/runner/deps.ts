/**
 * The real implementations of the runner's ports: the fault catalog, the
 * load engine, the analysis and the report writer.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { applyFault, leverState } from '../../chaos/index.js';
import { AppError } from '../../core/errors.js';
import type { TExperiment, TTimedFault } from '../../experiments/index.js';
import { loadTarget } from '../../targets/index.js';
import { loadScenarioFile, runLoad, withOverrides, type TScenario } from '../../loadtests/index.js';
import { analyseRun, type TLogRecord as TAnalysisLog } from '../analysis/index.js';
import { summaryOf, violationsOf, writeReport, REPORT_SCHEMA_VERSION } from '../reports/index.js';
import { readSamples } from '../collectors/index.js';
import { resolveTargetFile } from '../targets/index.js';
import { targetEnv } from '../platform.js';
import type { TAnalyseInput, TAnalyseOutput, TFaultWindow, TRunnerDeps } from './ports.js';
import { targetSystem } from './target-system.js';

const SCENARIOS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../loadtests/scenarios');

/** Log lines the breaker analysis reads (it matches `breaker` in fields or message); bounded so a chatty run cannot exhaust memory. */
const MAX_ANALYSIS_LOG_LINES = 50_000;

export function scenarioFor(base: TScenario, load: TExperiment['load'], baseUrl: string): TScenario {
  let s = withOverrides(base, {
    ...(load.rate !== undefined ? { rate: load.rate } : {}),
    ...(load.duration !== undefined ? { duration: `${load.duration}ms` } : {}),
    baseUrl,
  });
  if (load.vus !== undefined) {
    // vus: the VU ceiling of arrival-rate executors, the VU count of constant-vus
    const l = s.load as Record<string, unknown>;
    if ('maxVUs' in l || 'preAllocatedVUs' in l)
      s = { ...s, load: { ...s.load, maxVUs: Math.max(load.vus, Number(l.preAllocatedVUs ?? 0)) } as TScenario['load'] };
    else if ('vus' in l) s = { ...s, load: { ...s.load, vus: load.vus } as TScenario['load'] };
  }
  return s;
}

/**
 * The experiment as the analysis reads it: its `faults` are the run's planned windows (the fault
 * planner's list, nemesis schedules included), since analyseRun rebuilds the report's windows from
 * `experiment.faults` and matches the actual times by name. Only name, type, target and the planned
 * times are read there; the rest of the spec is not carried in a window.
 */
function experimentWithRunFaults(experiment: TExperiment, windows: readonly TFaultWindow[]): TExperiment {
  const faults = windows.map((w): TTimedFault => ({
    name: w.name,
    at: w.plannedAtMs,
    duration: w.plannedDurationMs,
    fault: { type: w.type, target: w.target } as TTimedFault['fault'],
  }));
  return { ...experiment, faults };
}

async function analyse(input: TAnalyseInput): Promise<TAnalyseOutput> {
  const samples = await readSamples(input.db, input.runId);
  await input.logStore.flush();
  const logs: TAnalysisLog[] = [];
  let cursor: string | undefined;
  do {
    const page = await input.logStore.search({ runId: input.runId, text: 'breaker', limit: 5000, ...(cursor ? { cursor } : {}) });
    logs.push(...page.records);
    cursor = page.next;
  } while (cursor && logs.length < MAX_ANALYSIS_LOG_LINES);
  // The load starts with its first scheduled second, after the engine's setup (users, products):
  // the fault timeline and the SLO period count from there.
  const loadStart = input.load?.seconds[0]?.t ?? input.load?.startedAt ?? input.startedAt;
  const loadEnd = input.load?.endedAt ?? input.endedAt;
  const report = await analyseRun(
    {
      runId: input.runId,
      experiment: experimentWithRunFaults(input.experiment, input.faults),
      loadStart,
      loadEnd,
      endedAt: input.endedAt,
      ended: input.ended,
      ...(input.reason ? { endReason: input.reason } : {}),
      engine: input.load?.engine ?? 'none',
      bugs: (process.env.SHOP_BUGS ?? '')
        .split(',')
        .map((b) => b.trim())
        .filter(Boolean),
      history: input.load?.history ?? [],
      seconds: input.load?.seconds ?? [],
      samples,
      logs,
      faultTimes: input.faults.map((f) => ({ name: f.name, appliedAt: f.appliedAt, removedAt: f.removedAt })),
      ...(input.baseline ? { baseline: input.baseline } : {}),
      ...(input.settle ? { settle: input.settle } : {}),
      ...(input.load ? { thresholds: input.load.thresholds } : {}),
    },
    { ...input.system },
  );
  const files = await writeReport(report, input.reportDir);
  return {
    verdict: report.verdict,
    reason: report.reason,
    report,
    schemaVersion: REPORT_SCHEMA_VERSION,
    files: Object.keys(files),
    violations: violationsOf(report),
    summary: summaryOf(report),
  };
}

export const realDeps: TRunnerDeps = {
  // a target file: a shipped one by name (`shop` is targets/shop.yaml), a path (absolute: experiments
  // resolve it against the experiment file), or a target saved in the console (written to a file of
  // its own, per version) — read with the platform's addresses of the bundled shop (targetEnv)
  systemUnderTest: async (experiment, p, deps) => {
    const env = targetEnv(p);
    const { target, file } = await loadTarget(await resolveTargetFile(p.db, experiment.target), process.cwd(), env);
    return targetSystem(target, p, deps, file, env);
  },
  applyFault: (spec, ctx) => applyFault(spec, ctx),
  loadScenario: async (name) => {
    // a scenario file of an experiment (a target's load), resolved against the experiment file
    if (path.isAbsolute(name)) return loadScenarioFile(name);
    if (!/^[a-z0-9][a-z0-9-]*$/.test(name))
      throw new AppError('VALIDATION', `invalid scenario name "${name}"`, {
        issues: [{ path: 'load.scenario', message: 'use lowercase letters, digits and "-"' }],
      });
    return loadScenarioFile(path.join(SCENARIOS_DIR, `${name}.yaml`));
  },
  scenarioFor,
  // the engine (builtin in a worker thread, or k6 when K6_BIN / PATH has one) is loadtests' choice
  runLoad: (scenario, opts) => runLoad(scenario, { baseUrl: opts.baseUrl, signal: opts.signal, onSecond: opts.onSecond, onHistory: opts.onHistory }),
  analyse,
  leverState: (db) => leverState(db),
};
