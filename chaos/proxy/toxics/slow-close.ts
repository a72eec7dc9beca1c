import type { TToxicModule } from './types.js';

/** slow_close: data passes untouched; EOF is held `delay` ms before it is passed on. */
export const slowClose: TToxicModule<{ delay: number }> = {
  type: 'slow_close',
  goStruct: 'SlowCloserToxic',
  goInt: 'int64',
  attributes: { delay: 0 },
  create(a, io) {
    let timer: NodeJS.Timeout | null = null;
    return {
      write: (c) => io.emit(c),
      end() {
        timer = setTimeout(() => {
          timer = null;
          io.end();
        }, a.delay);
      },
      stop() {
        if (!timer) return [];
        clearTimeout(timer);
        timer = null;
        return [null];
      },
      held: () => 0,
    };
  },
};
