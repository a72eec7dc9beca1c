import { parseDuration } from '../../duration.js';
import type { TExecutorConfig } from '../../scenario.js';
import { scaleInt } from '../../segments.js';
import { constantArrivalOffsets } from '../schedule.js';
import { runArrivalRate } from './arrival.js';
import type { TExecutorModule } from './types.js';

type C = Extract<TExecutorConfig, { executor: 'constant-arrival-rate' }>;

export const constantArrivalRate: TExecutorModule<C> = {
  type: 'constant-arrival-rate',
  run: (cfg, rt, tuple) =>
    runArrivalRate(
      constantArrivalOffsets(cfg.rate, parseDuration(cfg.timeUnit)!, parseDuration(cfg.duration)!, tuple),
      {
        preAllocatedVUs: scaleInt(tuple, cfg.preAllocatedVUs),
        maxVUs: scaleInt(tuple, cfg.maxVUs ?? cfg.preAllocatedVUs),
        gracefulStopMs: parseDuration(cfg.gracefulStop)!,
      },
      rt,
    ),
};
