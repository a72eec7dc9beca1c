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
  const interrupt = childController(rt.hardSignal);
  // Each VU gets its own interrupt signal, a child of the executor's: every
  // in-flight request listens on its iteration's signal, and Node's
  // EventTarget walks the whole listener list on each add and remove, so one
  // signal shared by every request cost O(in-flight) per request; per VU it
  // is O(1) (one request at a time), and the VUs' own listeners are added once.
  // The VUs' controllers hang off ONE listener on the executor's signal (a
  // child listener each would again walk a list as long as the VU count).
  const signals = new Map<TVu, AbortSignal>();
  const vuControllers = new Set<AbortController>();
  interrupt.signal.addEventListener(
    'abort',
    () => {
      for (const c of vuControllers) c.abort(interrupt.signal.reason);
    },
    { once: true },
  );
  const newVu = (): TVu => {
    const vu = rt.newVu();
    const c = new AbortController();
    if (interrupt.signal.aborted) c.abort(interrupt.signal.reason);
    vuControllers.add(c);
    signals.set(vu, c.signal);
    return vu;
  };
  const free: TVu[] = [];
  for (let i = 0; i < opts.preAllocatedVUs; i++) free.push(newVu());
  let total = opts.preAllocatedVUs;
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
        setImmediate(() => free.push(newVu()));
      }
      continue;
    }
    rt.vuActive(1);
    const p: Promise<void> = rt.iterate(vu, due, signals.get(vu)!).finally(() => {
      rt.vuActive(-1);
      free.push(vu);
      inflight.delete(p);
    });
    inflight.add(p);
  }
  await drain(inflight, opts.gracefulStopMs, interrupt, rt);
}
