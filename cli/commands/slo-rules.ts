/**
 * `faultline slo-rules [experiment.yaml ...] [--out FILE]`: Prometheus
 * recording rules and multi-window burn-rate alerts for the SLOs of the given
 * experiments (default: every experiment shipped in experiments/).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { DEFAULT_RULES_FILE, generateSloRules } from '../../dashboards/generate-slo-rules.js';

export function register(program: Command): void {
  program
    .command('slo-rules')
    .description('write Prometheus SLO recording rules and burn-rate alerts from experiment SLOs')
    .argument('[experiments...]', 'experiment files (default: all shipped experiments)')
    .option('-o, --out <file>', 'rules file to write (- for stdout)', DEFAULT_RULES_FILE)
    .action(async (files: string[], opts: { out: string }) => {
      const { yaml, sloCount, notes } = await generateSloRules(files);
      for (const n of notes) process.stderr.write(`note: ${n}\n`);
      if (opts.out === '-') {
        process.stdout.write(yaml);
        return;
      }
      await mkdir(path.dirname(opts.out), { recursive: true });
      await writeFile(opts.out, yaml);
      process.stdout.write(`wrote ${sloCount} SLOs as rules to ${opts.out}\n`);
    });
}
