/**
 * The log collectors' poll loop: a drain asked for while the loop's own is in
 * flight waits for it, so two drains never read the same range (a file
 * reader read its new lines twice when a caller drained beside the loop's
 * first poll); stop drains once more after the one in flight.
 */
import { describe, expect, it } from 'vitest';
import { PollLoop } from '../poll-loop.js';

describe('PollLoop', () => {
  it('runs drains one after another, never two at once, whoever asks', async () => {
    let active = 0;
    let most = 0;
    const order: string[] = [];
    let n = 0;
    const loop = new PollLoop(async () => {
      const id = ++n;
      active++;
      most = Math.max(most, active);
      order.push(`start ${id}`);
      // the loop's first drain is slow (a stat on a busy disk)
      await new Promise((r) => setTimeout(r, id === 1 ? 50 : 1));
      order.push(`end ${id}`);
      active--;
      return id;
    }, 60_000);
    loop.start();
    const [a, b] = await Promise.all([loop.now<number>(), loop.now<number>()]);
    expect([a, b]).toEqual([2, 3]);
    await loop.stop();
    expect(most).toBe(1);
    expect(order).toEqual(['start 1', 'end 1', 'start 2', 'end 2', 'start 3', 'end 3', 'start 4', 'end 4']);
  });

  it('a failed drain does not stop the next one', async () => {
    const errors: unknown[] = [];
    let n = 0;
    const loop = new PollLoop(
      async () => {
        if (++n === 1) throw new Error('store down');
        return n;
      },
      60_000,
      (e) => errors.push(e),
    );
    loop.start();
    expect(await loop.now<number>()).toBe(2);
    await loop.stop();
    expect(errors).toHaveLength(1);
  });
});
