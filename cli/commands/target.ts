/**
 * `faultline target check <file|name>`: validate a target file (field and
 * line on error, exit 2), then check every piece it names — one line per
 * piece, ok or the reason — and exit 1 when any piece is not there.
 */
import type { Command } from 'commander';
import { loadTarget } from '../../targets/index.js';
import { checkTarget } from '../../workers/index.js';
import { checkLineText } from '../target-preflight.js';

export function register(program: Command): void {
  const target = program.command('target').description('target files: the systems under test (targets/<name>.yaml)');
  target
    .command('check')
    .description('validate a target file, then check every piece it names (entry, Toxiproxy and proxies, processes, metrics, logs, databases and queries)')
    .argument('<target>', 'a target file path, or the name of a shipped target (shop)')
    .option('--timeout <ms>', 'bound of each network call in ms', '3000')
    .action(async (ref: string, o: { timeout: string }) => {
      const timeoutMs = Number(o.timeout);
      if (!Number.isInteger(timeoutMs) || timeoutMs < 100 || timeoutMs > 60_000) {
        const { AppError } = await import('../../core/errors.js');
        throw new AppError('VALIDATION', 'invalid --timeout', { issues: [{ path: '--timeout', message: 'a whole number of ms from 100 to 60000' }] });
      }
      const { target: t, file } = await loadTarget(ref);
      process.stdout.write(`target ${t.name} (${file}): file valid\n`);
      const lines = await checkTarget(t, { timeoutMs }, (l) => process.stdout.write(checkLineText(l, process.stdout.isTTY)));
      const failed = lines.filter((l) => !l.ok).length;
      process.stdout.write(`${lines.length - failed} ok, ${failed} failed\n`);
      process.exitCode = failed ? 1 : 0;
    });
}
