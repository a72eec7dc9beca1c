/** Executor registry (STYLE.md: small modules registered by name). */
import type { TExecutorConfig } from '../../scenario.js';
import { executionTuple, type TExecutionTuple } from '../../segments.js';
import { constantArrivalRate } from './constant-arrival-rate.js';
import { constantVus } from './constant-vus.js';
import { rampingArrivalRate } from './ramping-arrival-rate.js';
import { rampingVus } from './ramping-vus.js';
import type { TExecutorModule, TExecutorRuntime } from './types.js';

const registry = new Map<string, TExecutorModule<never>>();
for (const m of [constantArrivalRate, rampingArrivalRate, constantVus, rampingVus] as TExecutorModule<never>[]) registry.set(m.type, m);

/** Run an executor for one execution segment (default: the whole run). */
export function runExecutor(cfg: TExecutorConfig, rt: TExecutorRuntime, tuple: TExecutionTuple = executionTuple()): Promise<void> {
  const m = registry.get(cfg.executor) as TExecutorModule<TExecutorConfig> | undefined;
  if (!m) throw new Error(`no executor ${cfg.executor}`);
  return m.run(cfg, rt, tuple);
}

export const EXECUTOR_TYPES = [...registry.keys()];
export type { TExecutorRuntime, TVu } from './types.js';
