/**
 * `faultline up`: the quickstart — fault proxy + shop (supervisor) +
 * a worker, and the console (`next start`) when it has been built —
 * until Ctrl-C.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { z } from 'zod';
import { parseWith } from '../../core/validate.js';
import { loadConfig } from '../../core/config.js';
import { prepareRunEnvironment } from '../run-env.js';
import { untilSignal } from './worker.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

const UpFlagsSchema = z.object({
  bugs: z.string().optional(),
  instances: z.string().optional(),
  console: z.boolean().default(true),
});

export function register(program: Command): void {
  program
    .command('up')
    .description('quickstart: fault proxy, shop, worker and (when built) the console, until Ctrl-C')
    .option('--instances <list>', 'instances per service for a shop this command starts (default payments=2)')
    .option('--bugs <list>', 'bug switches for the shop (e.g. double-charge)')
    .option('--no-console', 'do not start the console')
    .action(async (raw: unknown) => {
      const flags = parseWith(UpFlagsSchema, raw, 'up options');
      const cfg = loadConfig();
      const env = await prepareRunEnvironment({
        bugs: flags.bugs,
        instances: flags.instances,
        alwaysStartWorker: true,
        note: (l) => process.stderr.write(`${l}\n`),
      });
      let consoleProc: ChildProcess | undefined;
      const consoleUrl = new URL(cfg.CONSOLE_URL);
      if (flags.console && existsSync(path.join(root, '.next', 'BUILD_ID'))) {
        consoleProc = spawn(
          process.execPath,
          [path.join(root, 'node_modules/next/dist/bin/next'), 'start', '-p', consoleUrl.port || '3000', '-H', consoleUrl.hostname],
          {
            cwd: root,
            stdio: ['ignore', 'ignore', 'inherit'],
            env: {
              ...process.env,
              SUPERVISOR_URL: env.supervisorUrl,
              SHOP_GATEWAY_URL: env.gatewayUrl,
              ...(env.toxiproxyUrl ? { TOXIPROXY_URL: env.toxiproxyUrl } : {}),
            },
          },
        );
      }
      process.stdout.write(
        [
          '',
          'faultline is up',
          `  shop gateway  ${env.gatewayUrl}${env.started.includes('shop') ? '' : ' (already running)'}`,
          `  supervisor    ${env.supervisorUrl}`,
          `  fault proxy   ${env.toxiproxyUrl ?? 'none'}`,
          `  worker        in this process`,
          `  console       ${consoleProc ? cfg.CONSOLE_URL : flags.console ? 'not built (npm run build), skipped' : 'off'}`,
          '',
          'run an experiment:  faultline run experiments/payments-latency.yaml --use-running',
          'Ctrl-C stops everything.',
          '',
        ].join('\n'),
      );
      await untilSignal((sig) => process.stderr.write(`\n${sig}: stopping…\n`));
      consoleProc?.kill('SIGTERM');
      await env.stop();
      process.stderr.write('stopped\n');
    });
}
