/**
 * Process entry of a service instance: configuration only from the
 * environment, logs on stdout, SIGTERM/SIGINT = graceful shutdown
 * (deregister, drain background work, close).
 */
import { optionsFromEnv, startService } from './runtime.js';
import type { TShopService } from '../config.js';

export async function runServiceProcess(service: TShopService): Promise<void> {
  let parsed;
  try {
    parsed = optionsFromEnv({ ...process.env, SHOP_SERVICE: process.env.SHOP_SERVICE || service });
  } catch (e) {
    process.stderr.write(`${service}: bad configuration: ${(e as Error).message}\n`);
    process.exit(2);
  }
  if (parsed.service !== service) {
    process.stderr.write(`${service}: SHOP_SERVICE is "${parsed.service}" but this is the ${service} entry\n`);
    process.exit(2);
  }
  let running;
  try {
    running = await startService(service, parsed.opts);
  } catch (e) {
    process.stderr.write(`${service}: failed to start: ${(e as Error).message}\n`);
    process.exit(1);
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    // A hung dependency must not keep a stopping instance alive forever.
    setTimeout(() => process.exit(1), 10_000).unref();
    running
      .close({ graceful: true })
      .then(() => process.exit(0))
      .catch((e: Error) => {
        process.stderr.write(`${service}: shutdown on ${signal} failed: ${e.message}\n`);
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
