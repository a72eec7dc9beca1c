/**
 * Run one experiment file through the queue and follow it to its verdict
 * with the live progress view (shared by `faultline run` and `gate`).
 */
import { loadConfig } from '../core/config.js';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '../core/errors.js';
import { checkExperimentTarget, isTargetFile, parseExperiment, resolveExperimentRefs, type TExperiment } from '../experiments/index.js';
import { enqueueRun, executorDurationMs, getReport, realDeps, requestAbort, waitForRun, type TRunRow } from '../workers/index.js';
import { createProgressView } from './progress.js';
import { assertShopTargets } from './shop-targets.js';
import type { TRunEnv } from './run-env.js';

export type TRunOutcome = { runId: string; run: TRunRow; reportDir: string | null; experiment: TExperiment };

/** CLI exit code of a run's final state: passed 0; failed or aborted (the hypothesis did not hold) 1; errored 2. */
export function exitCodeOf(state: string): number {
  if (state === 'passed') return 0;
  if (state === 'failed' || state === 'aborted') return 1;
  return 2;
}

export async function readExperimentFile(file: string): Promise<{ yaml: string; experiment: TExperiment }> {
  let yaml: string;
  try {
    yaml = await readFile(file, 'utf8');
  } catch (e) {
    throw new AppError(
      (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'NOT_FOUND' : 'VALIDATION',
      `cannot read experiment file ${file}: ${(e as Error).message}`,
      {
        issues: [{ path: 'experiment', message: 'file not readable' }],
      },
    );
  }
  const parsed = parseExperiment(yaml, file);
  if (isTargetFile(parsed.target)) {
    // a target file: paths relative to the experiment, faults checked against what the target declares
    const experiment = resolveExperimentRefs(parsed, path.dirname(path.resolve(file)));
    await checkExperimentTarget(experiment, file, yaml);
    return { yaml, experiment };
  }
  assertShopTargets(parsed, yaml, file);
  return { yaml, experiment: parsed };
}

/**
 * Longest expected wall time of a run, for the progress bar: load, the
 * settling maximum (`quiescence`; a settled shop ends it sooner) and setup.
 */
export async function expectedRunMs(e: TExperiment): Promise<number> {
  let loadMs = e.load.duration;
  if (loadMs === undefined) {
    try {
      const s = await realDeps.loadScenario(e.load.scenario);
      loadMs = executorDurationMs(s.load as never);
    } catch {
      loadMs = undefined;
    }
  }
  return (loadMs ?? 60_000) + e.quiescence + 5_000;
}

export async function runExperiment(
  env: TRunEnv,
  file: string,
  opts: { reportDir?: string; trigger: 'cli' | 'gate'; suiteRunId?: string; quiet?: boolean },
): Promise<TRunOutcome> {
  const { yaml, experiment } = await readExperimentFile(file);
  const { runId } = await enqueueRun(env.platform, {
    yaml,
    sourcePath: path.resolve(file),
    trigger: opts.trigger,
    ...(opts.reportDir ? { reportDir: path.resolve(opts.reportDir) } : {}),
    ...(opts.suiteRunId ? { suiteRunId: opts.suiteRunId } : {}),
  });
  process.stderr.write(`run ${runId}: ${experiment.name}\n`);
  const live = await consoleRunUrl(runId);
  if (live) process.stderr.write(`follow it live: ${live}\n`);
  const view = opts.quiet ? undefined : createProgressView({ name: experiment.name, expectedMs: await expectedRunMs(experiment) });
  // Ctrl-C: abort the run (faults removed) instead of leaving it to the stall sweeper.
  let interrupted = 0;
  const onSigint = () => {
    interrupted++;
    if (interrupted === 1) {
      process.stderr.write('\ninterrupt: aborting the run and removing its faults… (Ctrl-C again to quit at once)\n');
      void requestAbort(env.platform, runId, 'interrupted from the CLI').catch(() => undefined);
    } else process.exit(130);
  };
  process.on('SIGINT', onSigint);
  try {
    const run = await waitForRun(env.platform, runId, { onEvent: (e) => view?.onEvent(e) });
    view?.stop();
    let reportDir: string | null = null;
    try {
      reportDir = (await getReport(env.platform, runId)).dir;
    } catch {
      reportDir = null;
    }
    return { runId, run, reportDir, experiment };
  } finally {
    view?.stop();
    process.off('SIGINT', onSigint);
  }
}

/** The closing lines after a run. */
export function outcomeText(o: TRunOutcome): string {
  const s = o.run.summary as {
    slos?: { passed: number; failed: number };
    breakers?: { passed: number; failed: number };
    invariants?: { passed: number; failed: number };
    requests?: number;
  } | null;
  const lines = [`${o.experiment.name}: ${o.run.state.toUpperCase()}${o.run.reason ? ` — ${o.run.reason}` : ''}`];
  if (s?.slos) {
    const f = (x?: { passed: number; failed: number }) => (x ? `${x.passed}/${x.passed + x.failed}` : '-');
    lines.push(`  SLOs ${f(s.slos)} · breaker expectations ${f(s.breakers)} · invariants ${f(s.invariants)} · ${s.requests ?? 0} requests`);
  }
  if (o.reportDir) lines.push(`  report: ${path.join(o.reportDir, 'report.html')} (also report.json, junit.xml, summary.md)`);
  lines.push(`  run id: ${o.runId}  (faultline report ${o.runId})`);
  return lines.join('\n');
}

/** The console page of a run, when a console answers at CONSOLE_URL (checked quickly, never fatal). */
async function consoleRunUrl(runId: string): Promise<string | undefined> {
  const base = loadConfig().CONSOLE_URL.replace(/\/+$/, '');
  try {
    const r = await fetch(`${base}/login`, { signal: AbortSignal.timeout(500), redirect: 'manual' });
    return r.status < 500 ? `${base}/runs/${runId}` : undefined;
  } catch {
    return undefined;
  }
}
