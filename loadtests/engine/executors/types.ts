import { setMaxListeners } from 'node:events';
import type { TExecutionTuple } from '../../segments.js';

/**
 * What an executor sees of the engine. An executor only decides *when* an
 * iteration starts and on which VU; the engine runs the iteration, records
 * metrics and history.
 */
export interface TVu {
  /** 1-based, like k6's __VU. */
  readonly id: number;
}

export interface TExecutorRuntime {
  /** ms since the executor started (monotonic clock). */
  now(): number;
  /** Resolves at `tMs` (executor time) or as soon as the run stops. */
  sleepUntil(tMs: number): Promise<void>;
  /** True once no new iteration may start (external abort, threshold abort). */
  readonly stopped: boolean;
  /** Aborted when in-flight iterations must be interrupted at once. */
  readonly hardSignal: AbortSignal;
  /** Initialise a VU (counts towards vus_max). */
  newVu(): TVu;
  /** Run one iteration that was due at `intendedMs`; never rejects. */
  iterate(vu: TVu, intendedMs: number, signal: AbortSignal): Promise<void>;
  /** An iteration was due at `atMs` (open-model schedules only). */
  scheduled(atMs: number): void;
  /** An iteration due at `atMs` had no free VU and was dropped (k6 dropped_iterations). */
  dropped(atMs: number): void;
  /** Change the number of active VUs (the `vus` gauge). */
  vuActive(delta: number): void;
}

export interface TExecutorModule<C extends { executor: string }> {
  type: C['executor'];
  /**
   * Run until the executor's schedule ends and in-flight iterations finish
   * (within gracefulStop). `tuple` is this instance's execution segment: only
   * its stripe of arrival-rate iterations runs, VU counts are its share (k6).
   */
  run(cfg: C, rt: TExecutorRuntime, tuple: TExecutionTuple): Promise<void>;
}

/** An AbortController that also aborts when `parent` does. */
export function childController(parent: AbortSignal): AbortController {
  const c = new AbortController();
  // every in-flight request listens on it: hundreds of listeners by design
  setMaxListeners(0, c.signal);
  if (parent.aborted) c.abort(parent.reason);
  else parent.addEventListener('abort', () => c.abort(parent.reason), { once: true });
  return c;
}

/**
 * k6's gracefulStop: let in-flight iterations finish for up to `graceMs`,
 * then interrupt them (interrupted iterations emit no iteration metrics).
 */
export async function drain(inflight: Set<Promise<void>>, graceMs: number, interrupt: AbortController, rt: TExecutorRuntime): Promise<void> {
  if (inflight.size > 0 && !interrupt.signal.aborted) {
    let timer: NodeJS.Timeout | undefined;
    const all = Promise.all(inflight);
    await Promise.race([
      all,
      new Promise<void>((r) => {
        timer = setTimeout(r, graceMs);
      }),
      new Promise<void>((r) => interrupt.signal.addEventListener('abort', () => r(), { once: true })),
    ]);
    clearTimeout(timer);
  }
  interrupt.abort(new Error('gracefulStop expired'));
  await Promise.all(inflight);
  void rt;
}
