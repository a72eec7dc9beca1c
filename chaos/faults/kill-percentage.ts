/**
 * Kill a percentage of a service's running instances (rounded up, at least
 * one), chosen at random as a real failure would be.
 */
import { randomInt } from 'node:crypto';
import { AppError } from '../../core/errors.js';
import { KillPercentageSpecSchema, type TFaultSpecOf } from './spec.js';
import { resolveService, supervisorOf } from './targets.js';
import type { TFaultModule } from './types.js';
import { killInstances } from './kill.js';

/** How many of `running` instances `percentage` means: rounded up, at least one, at most all. */
export function killCount(running: number, percentage: number): number {
  if (running <= 0) return 0;
  return Math.min(running, Math.max(1, Math.ceil((running * percentage) / 100 - 1e-9)));
}

function pick<T>(items: T[], n: number): T[] {
  const a = [...items];
  for (let i = a.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a.slice(0, n);
}

const fault: TFaultModule<'kill_percentage'> = {
  type: 'kill_percentage',
  schema: KillPercentageSpecSchema,
  async validate(spec: TFaultSpecOf<'kill_percentage'>, ctx) {
    resolveService(spec.target, await supervisorOf(ctx).instances(), ctx);
  },
  async apply(target, params, ctx) {
    const all = resolveService(target, await supervisorOf(ctx).instances(), ctx);
    const running = all.filter((i) => i.state === 'running');
    if (running.length === 0) {
      throw new AppError('CONFLICT', `service "${target}" has no running instance to kill`, {
        issues: [{ path: 'target', message: `no running instance of "${target}" (states: ${all.map((i) => `${i.id}=${i.state}`).join(', ')})` }],
      });
    }
    const victims = pick(running, killCount(running.length, params.percentage)).map((i) => i.id);
    return killInstances(victims, params.holdMs, ctx);
  },
};

export const { type, schema, validate, apply } = fault;
export default fault;
