import { parseDuration } from '../../duration.js';
import type { TExecutorConfig } from '../../scenario.js';
import { scaleInt } from '../../segments.js';
import { rampingArrivalOffsets } from '../schedule.js';
import { runArrivalRate } from './arrival.js';
import type { TExecutorModule } from './types.js';

type C = Extract<TExecutorConfig, { executor: 'ramping-arrival-rate' }>;

export const rampingArrivalRate: TExecutorModule<C> = {
  type: 'ramping-arrival-rate',
  run: (cfg, rt, tuple) =>
    runArrivalRate(
      rampingArrivalOffsets(
        cfg.startRate,
        parseDuration(cfg.timeUnit)!,
        cfg.stages.map((s) => ({ durationMs: parseDuration(s.duration)!, target: s.target })),
        tuple,
      ),
      {
        preAllocatedVUs: scaleInt(tuple, cfg.preAllocatedVUs),
        maxVUs: scaleInt(tuple, cfg.maxVUs ?? cfg.preAllocatedVUs),
        gracefulStopMs: parseDuration(cfg.gracefulStop)!,
      },
      rt,
    ),
};
