/**
 * `faultline run <experiment.yaml> [--report-dir DIR]`: one experiment,
 * live progress, verdict. Exit 0 passed, 1 failed/aborted, 2 error or bad input.
 * An experiment naming a target file runs without the shop: its target is
 * checked first (preflightTargets) and the shop is never contacted — except
 * the shop's own target file (targets/shop.yaml), which needs the shop: it
 * is started (or required) as for `target: shop`, and checked once it is up.
 */
import type { Command } from 'commander';
import { z } from 'zod';
import { parseWith } from '../../core/validate.js';
import { exitCodeOf, outcomeText, readExperimentFile, runExperiment } from '../execute-experiment.js';
import { checkShopFlags, prepareRunEnvironment } from '../run-env.js';
import { needsShop, preflightOrder, preflightTargets } from '../target-preflight.js';

const RunFlagsSchema = z.object({
  reportDir: z.string().min(1, '--report-dir must not be empty').optional(),
  useRunning: z.boolean().default(false),
  bugs: z.string().optional(),
  instances: z.string().optional(),
  quiet: z.boolean().default(false),
});

export function register(program: Command): void {
  program
    .command('run')
    .description('run one experiment against the shop or its target file and print its verdict (exit 0 passed, 1 failed or aborted, 2 error)')
    .argument('<experiment>', 'experiment file (YAML), e.g. experiments/payments-latency.yaml')
    .option('--report-dir <dir>', 'write report.json, junit.xml, summary.md and report.html here (default REPORT_DIR/<runId>)')
    .option('--use-running', 'use the shop, proxy and workers already running instead of starting them')
    .option('--instances <list>', 'instances per service for a shop this command starts (default payments=2)')
    .option('--bugs <list>', 'bug switches for a shop this command starts (e.g. double-charge)')
    .option('--quiet', 'no live progress display')
    .action(async (file: string, raw: unknown) => {
      const flags = parseWith(RunFlagsSchema, raw, 'run options');
      // validate the file before starting anything
      const { experiment } = await readExperimentFile(file);
      const shop = needsShop(experiment.target);
      checkShopFlags({ ...flags, shop });
      // a target file: every piece it needs answers before anything starts (one line per piece on stderr);
      // the shop's own target file once the shop is up
      const { before, afterShop } = preflightOrder([{ file, experiment }]);
      const write = (t: string) => process.stderr.write(t);
      await preflightTargets(before, { write });
      const env = await prepareRunEnvironment({
        shop,
        useRunning: flags.useRunning,
        bugs: flags.bugs,
        instances: flags.instances,
        note: (l) => process.stderr.write(`${l}\n`),
      });
      try {
        await preflightTargets(afterShop, { write });
        const o = await runExperiment(env, file, { reportDir: flags.reportDir, trigger: 'cli', quiet: flags.quiet });
        process.stdout.write(`${outcomeText(o)}\n`);
        process.exitCode = exitCodeOf(o.run.state);
      } finally {
        await env.stop();
      }
    });
}
