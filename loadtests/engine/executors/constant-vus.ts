/**
 * constant-vus (closed model): `vus` VUs loop iterations back to back for
 * `duration`; an iteration's intended start is its actual start, so its
 * latencies carry coordinated omission by construction (as in k6).
 */
import { parseDuration } from '../../duration.js';
import type { TExecutorConfig } from '../../scenario.js';
import { scaleInt } from '../../segments.js';
import { childController, drain, type TExecutorModule } from './types.js';

type C = Extract<TExecutorConfig, { executor: 'constant-vus' }>;

export const constantVus: TExecutorModule<C> = {
  type: 'constant-vus',
  async run(cfg, rt, tuple) {
    const endMs = parseDuration(cfg.duration)!;
    const interrupt = childController(rt.hardSignal);
    const loops = new Set<Promise<void>>();
    for (let i = 0; i < scaleInt(tuple, cfg.vus); i++) {
      const vu = rt.newVu();
      const loop = (async () => {
        rt.vuActive(1);
        try {
          while (!rt.stopped && rt.now() < endMs && !interrupt.signal.aborted) await rt.iterate(vu, rt.now(), interrupt.signal);
        } finally {
          rt.vuActive(-1);
        }
      })();
      loops.add(loop);
    }
    await rt.sleepUntil(endMs);
    await drain(loops, parseDuration(cfg.gracefulStop)!, interrupt, rt);
  },
};
