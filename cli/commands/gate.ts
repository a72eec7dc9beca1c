/**
 * `faultline gate --suite <suite.yaml> --report-dir DIR`: run every
 * experiment of a suite (one after the other: they share the shop) and
 * exit 0 when every verdict passed, 1 when any failed or aborted, 2 on an
 * error of faultline itself or bad input. Writes DIR/<experiment>/ reports,
 * DIR/junit.xml (all runs), DIR/summary.md and DIR/gate.json. The shop is
 * started (or required) only when some experiment runs against it (`shop`,
 * or its own target file targets/shop.yaml); the target file of each other
 * experiment is checked first (preflightTargets), the shop's once it is up.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { AppError, toAppError, type TFieldIssue } from '../../core/errors.js';
import { parseWith } from '../../core/validate.js';
import { isTargetFile, loadSuiteFile } from '../../experiments/index.js';
import { newRunId } from '../../workers/index.js';
import { outcomeText, runExperiment } from '../execute-experiment.js';
import { gateExitCode, gateSummary, mergeJunit, type TGateResult } from '../gate-report.js';
import { checkShopFlags, prepareRunEnvironment } from '../run-env.js';
import { needsShop, preflightOrder, preflightTargets } from '../target-preflight.js';
import { shopTargetIssues } from '../shop-targets.js';
import { yamlLineOf } from '../../core/validate.js';

const GateFlagsSchema = z.object({
  suite: z.string({ error: '--suite is required' }).min(1, '--suite is required'),
  reportDir: z.string({ error: '--report-dir is required' }).min(1, '--report-dir is required'),
  useRunning: z.boolean().default(false),
  bugs: z.string().optional(),
  instances: z.string().optional(),
  quiet: z.boolean().default(false),
});

export function register(program: Command): void {
  program
    .command('gate')
    .description('CI resilience gate: run a suite; exit 0 all passed, 1 any failed, 2 faultline error or bad input')
    .option('--suite <file>', 'suite file, e.g. experiments/suites/ci.yaml')
    .option('--report-dir <dir>', 'directory for every run report plus junit.xml, summary.md, gate.json')
    .option('--use-running', 'use the shop, proxy and workers already running instead of starting them')
    .option('--instances <list>', 'instances per service for a shop this command starts (default payments=2)')
    .option('--bugs <list>', 'bug switches for a shop this command starts (e.g. double-charge)')
    .option('--quiet', 'no live progress display')
    .action(async (raw: unknown) => {
      const gateStart = Date.now();
      const flags = parseWith(GateFlagsSchema, raw, 'gate options');
      const { suite, experiments } = await loadSuiteFile(flags.suite);
      // every unknown edge / service / breaker of the suite at once, before the shop starts
      const targetIssues: TFieldIssue[] = [];
      for (const [i, { file, experiment }] of experiments.entries()) {
        // a target file's experiment was checked against its target by loadSuiteFile
        if (isTargetFile(experiment.target)) continue;
        const text = await readFile(file, 'utf8').catch(() => '');
        for (const issue of shopTargetIssues(experiment)) {
          const line = yamlLineOf(
            text,
            issue.path.split('.').map((k) => (/^\d+$/.test(k) ? Number(k) : k)),
          );
          targetIssues.push({ path: `experiments.${i} (${path.basename(file)}) ${issue.path}`, message: issue.message, ...(line ? { line } : {}) });
        }
      }
      if (targetIssues.length) throw new AppError('VALIDATION', `${flags.suite}: unknown scenario or target`, { issues: targetIssues });
      const shop = experiments.some((x) => needsShop(x.experiment.target));
      checkShopFlags({ ...flags, shop });
      // target files before anything starts; the shop's own target file once the shop is up
      const { before, afterShop } = preflightOrder(experiments);
      const write = (t: string) => process.stderr.write(t);
      await preflightTargets(before, { write });
      const reportRoot = path.resolve(flags.reportDir);
      await mkdir(reportRoot, { recursive: true });
      const env = await prepareRunEnvironment({
        shop,
        useRunning: flags.useRunning,
        bugs: flags.bugs,
        instances: flags.instances,
        note: (l) => process.stderr.write(`${l}\n`),
      });
      const suiteRunId = `gate-${newRunId()}`;
      const results: TGateResult[] = [];
      try {
        await preflightTargets(afterShop, { write });
        for (const { file, experiment } of experiments) {
          const t0 = Date.now();
          try {
            const o = await runExperiment(env, file, { reportDir: path.join(reportRoot, experiment.name), trigger: 'gate', suiteRunId, quiet: flags.quiet });
            process.stdout.write(`${outcomeText(o)}\n`);
            let junit: string | undefined;
            if (o.reportDir) junit = await readFile(path.join(o.reportDir, 'junit.xml'), 'utf8').catch(() => undefined);
            results.push({
              experiment: experiment.name,
              file,
              runId: o.runId,
              state: o.run.state as TGateResult['state'],
              reason: o.run.reason,
              reportDir: o.reportDir,
              durationMs: Date.now() - t0,
              ...(junit ? { junit } : {}),
            });
          } catch (e) {
            const err = toAppError(e);
            process.stderr.write(`${experiment.name}: faultline error: ${err.toText()}\n`);
            results.push({ experiment: experiment.name, file, runId: null, state: 'error', reason: err.message, reportDir: null, durationMs: Date.now() - t0 });
          }
        }
      } finally {
        await env.stop();
      }
      const totalMs = Date.now() - gateStart;
      const summary = gateSummary(suite.name, results, totalMs);
      await writeFile(path.join(reportRoot, 'junit.xml'), mergeJunit(suite.name, results));
      await writeFile(path.join(reportRoot, 'summary.md'), summary);
      await writeFile(
        path.join(reportRoot, 'gate.json'),
        `${JSON.stringify({ suite: suite.name, suiteRunId, startedAt: gateStart, durationMs: totalMs, exitCode: gateExitCode(results), results: results.map(({ junit: _j, ...r }) => r) }, null, 2)}\n`,
      );
      process.stdout.write(`\n${summary}\nreports: ${reportRoot} (junit.xml, summary.md, gate.json, one folder per experiment)\n`);
      process.exitCode = gateExitCode(results);
    });
}
