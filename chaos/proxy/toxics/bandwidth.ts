import { ItemQueue, type TToxicModule } from './types.js';

/**
 * bandwidth: at most `rate` KB/s (1 KB = 1000 B). Each chunk costs
 * len/rate ms; a chunk larger than 100 ms worth (rate·100 B) is sent in
 * rate·100 B slices every 100 ms. Like Toxiproxy, the time a timer overshoots
 * is credited to the next chunk, so the long-run rate stays exact. rate 0
 * holds data forever (Toxiproxy stalls too; a negative rate, which panics
 * Toxiproxy, stalls here instead of crashing the server).
 */
export const bandwidth: TToxicModule<{ rate: number }> = {
  type: 'bandwidth',
  goStruct: 'BandwidthToxic',
  goInt: 'int64',
  attributes: { rate: 0 },
  create(a, io) {
    const q = new ItemQueue();
    let timer: NodeJS.Timeout | null = null;
    let debt = 0; // ms still owed (Toxiproxy's `sleep`), negative = credit from overshoot
    let headCosted = false;
    const slice = a.rate * 100;
    const pump = (): void => {
      while (timer === null && q.length > 0) {
        const head = q.peek()!;
        if (head === null) {
          q.shift();
          io.end();
          return;
        }
        if (a.rate <= 0) return;
        if (!headCosted) {
          debt += head.data.length / a.rate;
          headCosted = true;
        }
        if (head.data.length > slice) {
          const due = io.now() + 100;
          timer = setTimeout(() => {
            timer = null;
            const part = head.data.subarray(0, slice);
            head.data = head.data.subarray(slice);
            q.bytes -= part.length;
            // the overshoot of this timer is paid back from the debt
            debt -= 100 + Math.max(0, io.now() - due);
            io.emit({ data: part, t: head.t });
            pump();
          }, 100);
          return;
        }
        if (debt <= 0) {
          q.shift();
          headCosted = false;
          io.emit(head);
          continue;
        }
        const start = io.now();
        timer = setTimeout(() => {
          timer = null;
          debt -= io.now() - start;
          q.shift();
          headCosted = false;
          io.emit(head);
          pump();
        }, debt);
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
