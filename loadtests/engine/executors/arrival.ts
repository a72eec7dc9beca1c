/**
 * Shared open-model loop of the arrival-rate executors (k6
 * constant_arrival_rate.go / ramping_arrival_rate.go):
 *
 *   for each intended start t (absolute offsets, no drift):
 *     sleep until t ──▶ free VU? ── yes ─▶ start iteration on it
 *                          │ no
 *                          ▼
 *              dropped_iterations += 1; if VUs < maxVUs,
 *              initialise ONE more VU in the background
 *
 * A dropped iteration is never retried. The late start of an iteration (timer
 * lag) stays visible: its corrected latency is measured from `t`.
 */
import { childController, drain, type TExecutorRuntime, type TVu } from './types.js';

export async function runArrivalRate(
  offsets: Iterable<number>,
  opts: { preAllocatedVUs: number; maxVUs: number; gracefulStopMs: number },
  rt: TExecutorRuntime,
): Promise<void> {
  // k6 skips an executor whose segment gets no VUs (HasWork): its share of the
  // iterations is then zero too, since VUs and iterations are striped alike
  if (opts.maxVUs === 0) return;
  const free: TVu[] = [];
  for (let i = 0; i < opts.preAllocatedVUs; i++) free.push(rt.newVu());
  let total = opts.preAllocatedVUs;
  const interrupt = childController(rt.hardSignal);
  const inflight = new Set<Promise<void>>();
  for (const due of offsets) {
    if (due > rt.now()) await rt.sleepUntil(due);
    if (rt.stopped) break;
    rt.scheduled(due);
    const vu = free.pop();
    if (!vu) {
      rt.dropped(due);
      if (total < opts.maxVUs) {
        total++;
        // k6 initialises the extra VU in the background: it serves later ticks, not this one
        setImmediate(() => free.push(rt.newVu()));
      }
      continue;
    }
    rt.vuActive(1);
    const p: Promise<void> = rt.iterate(vu, due, interrupt.signal).finally(() => {
      rt.vuActive(-1);
      free.push(vu);
      inflight.delete(p);
    });
    inflight.add(p);
  }
  await drain(inflight, opts.gracefulStopMs, interrupt, rt);
}
