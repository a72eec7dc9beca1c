import { describe, expect, it } from 'vitest';
import type { TStoredRunEvent } from '../workers/index.js';
import { createProgressView, eventLine, fmtInterval, fmtMs, summariseInterval, type TProgressSecond } from './progress.js';

const T0 = 1_700_000_000_000;
/** A second of steady load: 20 answers, p99 170 ms. */
const calm = (i: number, over: Partial<TProgressSecond> = {}): TProgressSecond => ({
  t: T0 + i * 1000,
  rps: 20,
  errors: 0,
  p99: 170,
  cp99: 175,
  dropped: 0,
  ...over,
});

let seq = 0;
const second = (s: TProgressSecond): TStoredRunEvent =>
  ({
    type: 'load.second',
    runId: 'r',
    seq: seq++,
    t: s.t,
    second: { ...s, target: 20, errorsByKind: {}, p50: 50, p95: 120, activeVus: 4, dropped: s.dropped ?? 0 },
  }) as TStoredRunEvent;

/** A stream that keeps what the view writes. */
function sink(): { out: NodeJS.WriteStream; lines: () => string[] } {
  let text = '';
  const out = { write: (s: string) => ((text += s), true), isTTY: false } as unknown as NodeJS.WriteStream;
  return { out, lines: () => text.split('\n').filter(Boolean) };
}

describe('load interval aggregation (pure)', () => {
  it('sums requests and errors and keeps the worst p99 of the interval', () => {
    // a 3 s latency fault: one second carries the slow answers, the others look calm
    const i = summariseInterval([calm(0), calm(1, { rps: 6, errors: 4, p99: 3120, cp99: 5480 }), calm(2), calm(3, { dropped: 3 }), calm(4)]);
    expect(i).toEqual({ seconds: 5, requests: 86, errors: 4, errorPct: (100 * 4) / 86, maxP99: 3120, maxCp99: 5480, dropped: 3 });
    expect(fmtInterval(i)).toBe('5 s: 86 req (17.2/s), 4.7% errors, max p99 3.1 s (corrected 5.5 s), 3 dropped');
  });

  it('a second without answers does not count its empty percentile; no seconds, no figures', () => {
    const i = summariseInterval([calm(0, { rps: 0, p99: 0, cp99: 0 }), calm(1, { rps: 0, p99: 0, cp99: 0 })]);
    expect(i.errorPct).toBeNull();
    expect(fmtInterval(i)).toBe('2 s: 0 req (0/s), no answers, max p99 0 ms (corrected 0 ms)');
    expect(fmtInterval(summariseInterval([]))).toBe('no load yet');
  });

  it('formats milliseconds and seconds', () => {
    expect([fmtMs(173.4), fmtMs(999), fmtMs(1000), fmtMs(5480)]).toEqual(['173 ms', '999 ms', '1.0 s', '5.5 s']);
  });

  it('settling gets its own line', () => {
    const settle = (x: object) => ({ type: 'settle', runId: 'r', seq: 1, t: T0, ...x }) as unknown as TStoredRunEvent;
    expect(eventLine(settle({ settled: true, waitedMs: 1800, maxMs: 30_000, detail: 'settled' }))).toBe('settled in 1.8 s (max 30.0 s)');
    expect(eventLine(settle({ settled: false, waitedMs: 30_000, maxMs: 30_000, detail: '2 sagas in flight' }))).toBe(
      'NOT settled after 30.0 s (max 30.0 s): 2 sagas in flight',
    );
  });
});

describe('plain (CI) progress output', () => {
  it('one line per 5 s of load covering every second of it: the stalled second is not lost between samples', () => {
    const { out, lines } = sink();
    const view = createProgressView({ name: 'x', expectedMs: 30_000, out, tty: false });
    for (let i = 0; i < 12; i++) view.onEvent(second(i === 7 ? calm(i, { p99: 3020, cp99: 3400, errors: 2 }) : calm(i)));
    view.stop();
    expect(lines()).toEqual([
      '[x] load 5 s: 100 req (20/s), 0.0% errors, max p99 170 ms (corrected 175 ms)',
      '[x] load 5 s: 100 req (20/s), 2.0% errors, max p99 3.0 s (corrected 3.4 s)',
      // stop() prints the rest
      '[x] load 2 s: 40 req (20/s), 0.0% errors, max p99 170 ms (corrected 175 ms)',
    ]);
  });

  it('a notable event first prints the seconds before it, so the log reads in order', () => {
    const { out, lines } = sink();
    const view = createProgressView({ name: 'x', expectedMs: 30_000, out, tty: false });
    view.onEvent(second(calm(0)));
    view.onEvent(second(calm(1, { p99: 900, cp99: 950 })));
    view.onEvent({
      type: 'fault.applied',
      runId: 'r',
      seq: 99,
      t: T0 + 2000,
      name: 'slow',
      faultId: 'f',
      fault: { type: 'latency', target: 'orders->payments' },
      plannedAt: 0,
      until: 0,
    } as TStoredRunEvent);
    view.onEvent(second(calm(2)));
    view.stop();
    expect(lines()).toEqual([
      '[x] load 2 s: 40 req (20/s), 0.0% errors, max p99 900 ms (corrected 950 ms)',
      '[x] fault slow applied: latency on orders->payments',
      '[x] load 1 s: 20 req (20/s), 0.0% errors, max p99 170 ms (corrected 175 ms)',
    ]);
  });
});

describe('TTY progress line', () => {
  /** A TTY view fed 12 s of load (second 2 stalled), then optionally the phase after the load; what it last drew. */
  function drawn(after?: 'recovering'): string {
    let text = '';
    const out = { isTTY: true, columns: 200, cursorTo: () => true, clearLine: () => true, moveCursor: () => true, write: (s: string) => ((text += s), true) };
    const view = createProgressView({ name: 'x', expectedMs: 30_000, out: out as unknown as NodeJS.WriteStream, tty: true });
    view.onEvent({ type: 'phase', phase: 'running', runId: 'r', seq: 1, t: T0 } as TStoredRunEvent);
    for (let i = 0; i < 12; i++) view.onEvent(second(i === 2 ? calm(i, { p99: 3020, cp99: 3400, errors: 2 }) : calm(i)));
    if (after) view.onEvent({ type: 'phase', phase: after, runId: 'r', seq: 20, t: T0 + 13_000 } as TStoredRunEvent);
    view.stop();
    return text;
  }

  it('during the load summarises its last 5 s; once the load is over, the whole load', () => {
    expect(drawn()).toContain('last 5 s: 100 req (20/s), 0.0% errors, max p99 170 ms');
    // the stalled second 2 is long out of the last 5 s, and still in the line after the load
    expect(drawn('recovering')).toContain('load done, 12 s: 240 req (20/s), 0.8% errors, max p99 3.0 s (corrected 3.4 s)');
  });
});
