import type { TToxicModule } from './types.js';

/**
 * timeout: drops all data. With timeout > 0 the connection is closed after
 * that many ms without incoming data (the timer restarts on every chunk);
 * 0 holds it open forever. Removing the toxic closes every link it was on.
 */
export const timeout: TToxicModule<{ timeout: number }> = {
  type: 'timeout',
  goStruct: 'TimeoutToxic',
  goInt: 'int64',
  attributes: { timeout: 0 },
  closeLinksOnRemove: true,
  create(a, io) {
    let timer: NodeJS.Timeout | null = null;
    const arm = (): void => {
      if (a.timeout <= 0) return;
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => {
        timer = null;
        io.close();
      }, a.timeout);
    };
    arm();
    return {
      write: () => arm(),
      end() {
        if (timer) clearTimeout(timer);
        timer = null;
        io.end();
      },
      stop() {
        if (timer) clearTimeout(timer);
        timer = null;
        return [];
      },
      held: () => 0,
    };
  },
};
