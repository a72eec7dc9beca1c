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
    const pump = (): void => {
      while (timer === null && q.length > 0) {
        const head = q.peek()!;
        if (head === null) {
          q.shift();
          io.end();
          return;
        }
        let delay = a.latency;
        if (a.jitter > 0) delay += Math.floor(io.random() * a.jitter * 2) - a.jitter;
        const sleep = delay - (io.now() - head.t);
        if (sleep <= 0) {
          q.shift();
          head.t = io.now();
          io.emit(head);
          continue;
        }
        timer = setTimeout(() => {
          timer = null;
          const c = q.shift();
          if (c) {
            c.t = io.now();
            io.emit(c);
          }
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
        return q.drain();
      },
      held: () => q.bytes,
    };
  },
};
