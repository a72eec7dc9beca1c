/** Toxic behaviour as pure logic: a fake clock and a recording io, no sockets. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { bandwidth } from './bandwidth.js';
import { latency } from './latency.js';
import { limitData } from './limit-data.js';
import { slicer } from './slicer.js';
import { slowClose } from './slow-close.js';
import { timeout } from './timeout.js';
import type { TChunk, TStageIO } from './types.js';

type TEvent = { at: number; kind: 'data'; bytes: number; text: string } | { at: number; kind: 'end' | 'close' | 'reset' };

function recorder(random = () => 0.5): { io: TStageIO; events: TEvent[] } {
  const events: TEvent[] = [];
  const io: TStageIO = {
    emit: (c) => events.push({ at: Date.now(), kind: 'data', bytes: c.data.length, text: c.data.toString() }),
    end: () => events.push({ at: Date.now(), kind: 'end' }),
    close: () => events.push({ at: Date.now(), kind: 'close' }),
    reset: () => events.push({ at: Date.now(), kind: 'reset' }),
    now: () => Date.now(),
    random,
  };
  return { io, events };
}

const chunk = (text: string | Buffer): TChunk => ({ data: Buffer.isBuffer(text) ? text : Buffer.from(text), t: Date.now() });

beforeEach(() => {
  vi.useFakeTimers({ now: 0 });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('toxics (pure)', () => {
  it('latency delays each chunk from its arrival, keeps order, then passes EOF', () => {
    const { io, events } = recorder();
    const p = latency.create({ latency: 100, jitter: 0 }, io, undefined);
    p.write(chunk('a'));
    vi.advanceTimersByTime(30);
    p.write(chunk('b'));
    p.end();
    vi.advanceTimersByTime(200);
    expect(events).toEqual([
      { at: 100, kind: 'data', bytes: 1, text: 'a' },
      { at: 130, kind: 'data', bytes: 1, text: 'b' },
      { at: 130, kind: 'end' },
    ]);
  });

  it('latency stop() hands back what it held, with arrival stamps', () => {
    const { io, events } = recorder();
    const p = latency.create({ latency: 100, jitter: 0 }, io, undefined);
    p.write(chunk('held'));
    expect(p.held()).toBe(4);
    const back = p.stop();
    vi.advanceTimersByTime(500);
    expect(events).toEqual([]);
    expect(back.map((c) => c?.data.toString())).toEqual(['held']);
  });

  it('bandwidth sends 100 ms slices of rate·100 bytes, the whole in len/rate ms', () => {
    const { io, events } = recorder();
    const p = bandwidth.create({ rate: 100 }, io, undefined); // 100 KB/s = 100 B/ms, slices of 10 000 B
    p.write(chunk(Buffer.alloc(25_000)));
    vi.advanceTimersByTime(1000);
    expect(events.map((e) => [e.at, e.kind === 'data' ? e.bytes : e.kind])).toEqual([
      [100, 10_000],
      [200, 10_000],
      [250, 5_000],
    ]);
  });

  it('bandwidth rate 0 holds data forever', () => {
    const { io, events } = recorder();
    const p = bandwidth.create({ rate: 0 }, io, undefined);
    p.write(chunk('x'));
    p.end();
    vi.advanceTimersByTime(60_000);
    expect(events).toEqual([]);
    expect(p.held()).toBe(1);
  });

  it('slicer cuts into pieces of at most average+variation, in order, nothing lost', () => {
    let seed = 1;
    const { io, events } = recorder(() => (seed = (seed * 16807) % 2147483647) / 2147483647);
    const p = slicer.create({ average_size: 10, size_variation: 3, delay: 0 }, io, undefined);
    const text = 'abcdefghijklmnopqrstuvwxyz'.repeat(8);
    p.write(chunk(text));
    const pieces = events.filter((e) => e.kind === 'data') as Extract<TEvent, { kind: 'data' }>[];
    expect(pieces.map((e) => e.text).join('')).toBe(text);
    expect(pieces.length).toBeGreaterThan(10);
    expect(Math.max(...pieces.map((e) => e.bytes))).toBeLessThanOrEqual(13);
  });

  it('slicer with average 0 and variation 0 ends in single bytes instead of recursing forever', () => {
    const { io, events } = recorder();
    slicer.create({ average_size: 0, size_variation: 0, delay: 0 }, io, undefined).write(chunk('abcd'));
    expect(events.map((e) => (e.kind === 'data' ? e.text : e.kind))).toEqual(['a', 'b', 'c', 'd']);
  });

  it('limit_data passes exactly N bytes then closes; the count survives a restart', () => {
    const { io, events } = recorder();
    const state = limitData.newState!();
    const first = limitData.create({ bytes: 10 }, io, state);
    first.write(chunk('123456'));
    first.stop();
    const second = limitData.create({ bytes: 10 }, io, state);
    second.write(chunk('789abcdef'));
    second.write(chunk('more'));
    expect(events.map((e) => (e.kind === 'data' ? e.text : e.kind))).toEqual(['123456', '789a', 'close']);
  });

  it('timeout drops data and closes after the quiet time, restarting the timer on each chunk', () => {
    const { io, events } = recorder();
    const p = timeout.create({ timeout: 100 }, io, undefined);
    vi.advanceTimersByTime(80);
    p.write(chunk('dropped'));
    vi.advanceTimersByTime(80);
    expect(events).toEqual([]);
    vi.advanceTimersByTime(30);
    expect(events).toEqual([{ at: 180, kind: 'close' }]);
  });

  it('timeout 0 never closes', () => {
    const { io, events } = recorder();
    timeout.create({ timeout: 0 }, io, undefined).write(chunk('x'));
    vi.advanceTimersByTime(3_600_000);
    expect(events).toEqual([]);
  });

  it('slow_close passes data at once and EOF after the delay; stop() hands the EOF back', () => {
    const { io, events } = recorder();
    const p = slowClose.create({ delay: 300 }, io, undefined);
    p.write(chunk('x'));
    p.end();
    vi.advanceTimersByTime(100);
    expect(p.stop()).toEqual([null]);
    vi.advanceTimersByTime(1000);
    expect(events).toEqual([{ at: 0, kind: 'data', bytes: 1, text: 'x' }]);
  });
});
