import { ItemQueue, type TToxicModule } from './types.js';

/**
 * latency: every chunk leaves `latency ± jitter` ms after it arrived at this
 * stage (Toxiproxy sleeps `delay − (now − arrival)`, so time already spent
 * queued counts). Chunks keep their order; jitter is drawn per chunk when it
 * reaches the head, uniform in [−jitter, jitter).
 */
export const latency: TToxicModule<{ latency: number; jitter: number }> = {
  type: 'latency',
  goStruct: 'LatencyToxic',
  goInt: 'int64',
  attributes: { latency: 0, jitter: 0 },
  create(a, io) {
    const q = new ItemQueue();
    let timer: NodeJS.Timeout | null = null;
    /** The head chunk's drawn delay (jitter is drawn once per chunk), null until drawn. */
    let headDelay: number | null = null;
    const pump = (): void => {
      while (timer === null && q.length > 0) {
        const head = q.peek()!;
        if (head === null) {
          q.shift();
          io.end();
          return;
        }
        if (headDelay === null) headDelay = a.latency + (a.jitter > 0 ? Math.floor(io.random() * a.jitter * 2) - a.jitter : 0);
        const sleep = headDelay - (io.now() - head.t);
        if (sleep <= 0) {
          q.shift();
          headDelay = null;
          head.t = io.now();
          io.emit(head);
          continue;
        }
        // A timer counts from the event loop's cached clock and can fire a few
        // ms early on a busy machine: the callback looks again and re-arms for
        // what is left, so no chunk leaves before its delay.
        timer = setTimeout(() => {
          timer = null;
          pump();
        }, sleep);
      }
    };
    return {
      write(c) {
        q.push(c);
        pump();
      },
      end() {
        q.push(null);
        pump();
      },
      stop() {
        if (timer) clearTimeout(timer);
        timer = null;
        headDelay = null;
        return q.drain();
      },
      held: () => q.bytes,
    };
  },
};
