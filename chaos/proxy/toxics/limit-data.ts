import type { TToxicModule } from './types.js';

interface TLimitState {
  sent: number;
}

/**
 * limit_data: passes exactly `bytes` bytes in this direction (the last chunk
 * truncated), then closes the connection. The count lives on the link, so it
 * survives updates of the toxic (Toxiproxy's stateful toxic).
 */
export const limitData: TToxicModule<{ bytes: number }> = {
  type: 'limit_data',
  goStruct: 'LimitDataToxic',
  goInt: 'int64',
  attributes: { bytes: 0 },
  newState: (): TLimitState => ({ sent: 0 }),
  create(a, io, state) {
    const s = state as TLimitState;
    let done = false;
    return {
      write(c) {
        if (done) return;
        const remaining = a.bytes - s.sent;
        if (remaining > 0) {
          const data = c.data.length > remaining ? c.data.subarray(0, remaining) : c.data;
          s.sent += data.length;
          io.emit(data === c.data ? c : { data, t: c.t });
        }
        if (a.bytes - s.sent <= 0) {
          done = true;
          io.close();
        }
      },
      end() {
        if (done) return;
        done = true;
        io.end();
      },
      stop: () => [],
      held: () => 0,
    };
  },
};
