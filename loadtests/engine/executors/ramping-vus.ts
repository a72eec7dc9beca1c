/**
 * ramping-vus (closed model) on k6's raw execution steps: the VU count
 * changes by one at each step. A VU removed by a ramp-down finishes its
 * current iteration (interrupted after gracefulRampDown); at the end of the
 * stages every VU gets gracefulStop.
 */
import { parseDuration } from '../../duration.js';
import type { TExecutorConfig } from '../../scenario.js';
import { rampingVuSteps } from '../schedule.js';
import { childController, drain, type TExecutorModule, type TVu } from './types.js';

type C = Extract<TExecutorConfig, { executor: 'ramping-vus' }>;

interface THandle {
  vu: TVu;
  active: boolean;
  ctrl: AbortController;
  loop?: Promise<void>;
  rampDownTimer?: NodeJS.Timeout;
}

export const rampingVus: TExecutorModule<C> = {
  type: 'ramping-vus',
  async run(cfg, rt, tuple) {
    const stages = cfg.stages.map((s) => ({ durationMs: parseDuration(s.duration)!, target: s.target }));
    const endMs = stages.reduce((s, st) => s + st.durationMs, 0);
    const rampDownMs = parseDuration(cfg.gracefulRampDown)!;
    const stopAll = childController(rt.hardSignal);
    const handles: THandle[] = [];
    const loops = new Set<Promise<void>>();
    let current = 0;

    const runLoop = (h: THandle): Promise<void> => {
      const p = (async () => {
        rt.vuActive(1);
        try {
          while (h.active && !rt.stopped && rt.now() < endMs && !h.ctrl.signal.aborted) await rt.iterate(h.vu, rt.now(), h.ctrl.signal);
        } finally {
          rt.vuActive(-1);
          h.loop = undefined;
        }
      })();
      loops.add(p);
      void p.finally(() => loops.delete(p));
      return p;
    };

    const setTarget = (n: number) => {
      while (current < n) {
        const h = (handles[current] ??= { vu: rt.newVu(), active: false, ctrl: childController(stopAll.signal) });
        clearTimeout(h.rampDownTimer);
        h.active = true;
        if (h.ctrl.signal.aborted) h.ctrl = childController(stopAll.signal);
        // a VU still finishing its ramped-down iteration just keeps looping
        if (!h.loop) h.loop = runLoop(h);
        current++;
      }
      while (current > n) {
        current--;
        const h = handles[current];
        h.active = false;
        h.rampDownTimer = setTimeout(() => {
          if (!h.active) h.ctrl.abort(new Error('gracefulRampDown expired'));
        }, rampDownMs);
      }
    };

    for (const step of rampingVuSteps(cfg.startVUs, stages, tuple)) {
      if (step.tMs >= endMs) break;
      if (step.tMs > rt.now()) await rt.sleepUntil(step.tMs);
      if (rt.stopped) break;
      setTarget(step.vus);
    }
    await rt.sleepUntil(endMs);
    for (const h of handles) clearTimeout(h.rampDownTimer);
    await drain(loops, parseDuration(cfg.gracefulStop)!, stopAll, rt);
  },
};
