import { ItemQueue, type TChunk, type TToxicModule } from './types.js';

/**
 * bandwidth: at most `rate` KB/s (1 KB = 1000 B). Each chunk costs
 * len/rate ms; a chunk larger than 100 ms worth (rate·100 B) leaves in
 * rate·100 B slices every 100 ms, the rest when its whole cost has elapsed
 * (Toxiproxy's behaviour). Times are kept on a virtual clock rather than
 * chained timers, so timer overshoot is not added to every slice and the
 * long-run rate stays exact (Toxiproxy credits its overshoot the same way).
 * An idle link earns no burst credit. rate 0 holds data forever (Toxiproxy
 * stalls too; a negative rate, which panics Toxiproxy, stalls here instead
 * of crashing the server).
 */
export const bandwidth: TToxicModule<{ rate: number }> = {
  type: 'bandwidth',
  goStruct: 'BandwidthToxic',
  goInt: 'int64',
  attributes: { rate: 0 },
  create(a, io) {
    const q = new ItemQueue();
    let timer: NodeJS.Timeout | null = null;
    const slice = a.rate * 100;
    let clock = 0; // when the link is free again (ms, io.now() scale)
    let headStart = -1; // virtual start time of the head chunk, -1 = not started
    let headSent = 0; // bytes of the head already sent
    const pump = (): void => {
      while (timer === null && q.length > 0) {
        const head = q.peek()!;
        if (head === null) {
          q.shift();
          io.end();
          return;
        }
        if (a.rate <= 0) return;
        const now = io.now();
        if (headStart < 0) {
          headStart = Math.max(clock, now);
          headSent = 0;
          clock = headStart + head.data.length / a.rate;
        }
        const left = head.data.length - headSent;
        const last = left <= slice;
        const due = last ? clock : headStart + ((headSent + slice) / slice) * 100;
        if (due > now) {
          timer = setTimeout(() => {
            timer = null;
            pump();
          }, due - now);
          return;
        }
        if (last) {
          q.shift();
          headStart = -1;
          io.emit(headSent === 0 ? head : ({ data: head.data.subarray(headSent), t: head.t } as TChunk));
        } else {
          const part = head.data.subarray(headSent, headSent + slice);
          headSent += slice;
          io.emit({ data: part, t: head.t });
        }
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
        const out = q.drain();
        // hand back only what was not sent yet
        if (headStart >= 0 && headSent > 0 && out[0]) out[0] = { data: out[0].data.subarray(headSent), t: out[0].t };
        headStart = -1;
        return out;
      },
      held: () => q.bytes - (headStart >= 0 ? headSent : 0),
    };
  },
};
