import { ItemQueue, type TToxicModule } from './types.js';

/**
 * slicer: splits each chunk into pieces of about `average_size` ±
 * `size_variation` bytes (recursive halving at mid ± variation, as Toxiproxy
 * does) and waits `delay` µs between pieces so they leave as separate writes.
 * Node has no sub-millisecond timer, so 0 < delay < 1000 µs yields to the
 * event loop once between pieces instead; ≥ 1000 µs uses a timer. A piece of
 * one byte is never split further (Toxiproxy recurses forever when average
 * and variation are both 0).
 */
export const slicer: TToxicModule<{ average_size: number; size_variation: number; delay: number }> = {
  type: 'slicer',
  goStruct: 'SlicerToxic',
  goInt: 'int',
  attributes: { average_size: 0, size_variation: 0, delay: 0 },
  create(a, io) {
    const q = new ItemQueue(); // pieces ready to send, EOF as null
    let waiting: NodeJS.Timeout | NodeJS.Immediate | null = null;
    const cut = (start: number, end: number, out: number[]): void => {
      if (end - start - a.average_size <= a.size_variation || end - start <= 1) {
        out.push(end);
        return;
      }
      const v = a.size_variation > 0 ? Math.floor(io.random() * a.size_variation * 2) - a.size_variation : 0;
      const mid = Math.min(end - 1, Math.max(start + 1, start + Math.floor((end - start) / 2) + v));
      cut(start, mid, out);
      cut(mid, end, out);
    };
    const pump = (): void => {
      while (waiting === null && q.length > 0) {
        const it = q.shift()!;
        if (it === null) {
          io.end();
          return;
        }
        io.emit(it);
        if (a.delay <= 0) continue;
        const next = (): void => {
          waiting = null;
          pump();
        };
        waiting = a.delay >= 1000 ? setTimeout(next, a.delay / 1000) : setImmediate(next);
      }
    };
    return {
      write(c) {
        const bounds: number[] = [];
        cut(0, c.data.length, bounds);
        let from = 0;
        for (const to of bounds) {
          q.push({ data: c.data.subarray(from, to), t: c.t });
          from = to;
        }
        pump();
      },
      end() {
        q.push(null);
        pump();
      },
      stop() {
        if (waiting) {
          clearTimeout(waiting as NodeJS.Timeout);
          clearImmediate(waiting as NodeJS.Immediate);
        }
        waiting = null;
        return q.drain();
      },
      held: () => q.bytes,
    };
  },
};
