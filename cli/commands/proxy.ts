/**
 * `faultline proxy`: the fault proxy as a standalone server, a drop-in for
 * `toxiproxy-server` (same HTTP API on the same default port; `--config`
 * takes the same populate JSON file). Runs until SIGINT/SIGTERM, then closes
 * every proxy and its connections.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { AppError } from '../../core/errors.js';
import { startFaultProxy, type TFaultProxyOptions } from '../../chaos/index.js';

export interface TProxyFlags {
  host: string;
  port: string;
  config?: string;
  seed?: string;
  proxyMetrics?: boolean;
  runtimeMetrics?: boolean;
}

function intFlag(text: string, flag: string, min: number, max: number): number {
  const n = /^\d+$/.test(text.trim()) ? Number(text) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new AppError('VALIDATION', `invalid ${flag}`, { issues: [{ path: flag, message: `"${text}" is not an integer from ${min} to ${max}` }] });
  }
  return n;
}

/** Flags → startFaultProxy options, with field-level errors for bad input. */
export function proxyOptions(flags: TProxyFlags): TFaultProxyOptions {
  const port = intFlag(flags.port, '--port', 0, 65535);
  const seed = flags.seed === undefined ? undefined : intFlag(flags.seed, '--seed', 0, 2 ** 32 - 1);
  let populate: string | undefined;
  if (flags.config !== undefined) {
    try {
      populate = readFileSync(flags.config, 'utf8');
    } catch (e) {
      throw new AppError('VALIDATION', `cannot read ${flags.config}`, { issues: [{ path: '--config', message: (e as Error).message }] });
    }
  }
  return { host: flags.host, port, seed, populate, proxyMetrics: flags.proxyMetrics === true, runtimeMetrics: flags.runtimeMetrics === true };
}

export function register(program: Command): void {
  program
    .command('proxy')
    .description('Run the Toxiproxy-compatible fault proxy (drop-in for toxiproxy-server)')
    .option('--host <host>', 'interface of the HTTP API', '127.0.0.1')
    .option('--port <port>', 'port of the HTTP API', '8474')
    .option('--config <file>', 'JSON file of proxies to create at start (same format as POST /populate)')
    .option('--seed <n>', 'seed for toxicity rolls and jitter, to make runs repeatable')
    .option('--proxy-metrics', 'serve byte counters per proxy on /metrics')
    .option('--runtime-metrics', 'serve process and runtime metrics on /metrics')
    .action(async (flags: TProxyFlags) => {
      const fp = await startFaultProxy(proxyOptions(flags));
      process.stdout.write(`faultline proxy: Toxiproxy 2.12.0 API on ${fp.url}\n`);
      await new Promise<void>((resolve) => {
        const stop = (): void => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          resolve();
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      await fp.close();
    });
}
