/**
 * `faultline report <runId>`: print a stored run's report (summary by
 * default, or json/junit/html), or write its four files with `--out DIR`.
 */
import path from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { parseWith } from '../../core/validate.js';
import { closeDb } from '../../db/client.js';
import { getPlatform, getReport, getRun } from '../../workers/index.js';
import { parseReport, renderHtml, renderJunit, renderSummary, writeReport } from '../../workers/reports/index.js';

const ReportFlagsSchema = z.object({
  runId: z.string().regex(/^\d+$/, 'a run id is a number, as printed by `faultline run`'),
  format: z.enum(['summary', 'json', 'junit', 'html'], { error: '--format must be summary, json, junit or html' }).default('summary'),
  out: z.string().min(1, '--out must not be empty').optional(),
});

export function register(program: Command): void {
  program
    .command('report')
    .description('print a stored run report, or write its files (report.json, junit.xml, summary.md, report.html)')
    .argument('<runId>', 'run id')
    .option('--format <format>', 'summary | json | junit | html', 'summary')
    .option('--out <dir>', 'write the four report files into this directory instead of printing')
    .action(async (runId: string, raw: Record<string, unknown>) => {
      const flags = parseWith(ReportFlagsSchema, { ...raw, runId }, 'report options');
      const p = getPlatform();
      try {
        const run = await getRun(p, flags.runId);
        const stored = await getReport(p, flags.runId);
        const report = parseReport(stored.report);
        if (flags.out) {
          const files = await writeReport(report, path.resolve(flags.out));
          process.stdout.write(`${Object.values(files).join('\n')}\n`);
          return;
        }
        const text =
          flags.format === 'json'
            ? `${JSON.stringify(report, null, 2)}\n`
            : flags.format === 'junit'
              ? renderJunit(report)
              : flags.format === 'html'
                ? renderHtml(report)
                : renderSummary(report);
        process.stdout.write(text);
        if (flags.format === 'summary')
          process.stdout.write(`\nstate ${run.state}${run.reason ? ` — ${run.reason}` : ''}; files in ${stored.dir ?? '(not written)'}\n`);
      } finally {
        // closing the queue while its Redis connection is still being set up
        // (a run id that does not exist fails fast) crashes on an unhandled
        // "Connection is closed" error event: let it finish first
        // (bounded: with Redis down it never gets ready, and the report needs only Postgres)
        await Promise.race([p.queue.waitUntilReady().catch(() => undefined), new Promise((r) => setTimeout(r, 2000).unref())]);
        await p.close();
        await closeDb();
      }
    });
}
