/**
 * The run page's segment chart data (`segmentsOf`): from stored events only,
 * so a finished split run draws what it drew live; an unsplit run has none.
 */
import { describe, expect, it } from 'vitest';
import type { TStoredRunEvent } from '../../../../workers/index.js';
import { segmentsOf } from './run-model.js';

let seq = 0;
const stored = (e: object): TStoredRunEvent => ({ ...e, runId: 'r', seq: ++seq, t: 0 }) as TStoredRunEvent;
const second = (t: number, parts?: { index: number; rps: number; target: number }[]) =>
  stored({
    type: 'load.second',
    second: {
      t,
      rps: (parts ?? []).reduce((a, p) => a + p.rps, 0),
      target: (parts ?? []).reduce((a, p) => a + p.target, 0),
      errors: 0,
      errorsByKind: {},
      p50: 1,
      p95: 1,
      p99: 1,
      cp99: 1,
      activeVus: 1,
      dropped: 0,
      ...(parts ? { segments: parts.map((p) => ({ ...p, errors: 0, dropped: 0 })) } : {}),
    },
  });

describe('segmentsOf', () => {
  it('an unsplit run has no segments', () => {
    expect(segmentsOf([second(1000), second(2000)])).toBeNull();
  });

  it("gives each segment its achieved and scheduled series and its last state, a failed one's reason and worker", () => {
    const events = [
      stored({ type: 'load.segments', count: 3, segments: [0, 1, 2].map((index) => ({ index, state: 'queued', seconds: 0 })) }),
      second(1000, [
        { index: 0, rps: 5, target: 5 },
        { index: 1, rps: 4, target: 5 },
        { index: 2, rps: 5, target: 5 },
      ]),
      // segment 3 said nothing for this second (it was being lost)
      second(2000, [
        { index: 0, rps: 5, target: 5 },
        { index: 1, rps: 5, target: 5 },
      ]),
      stored({
        type: 'load.segments',
        count: 3,
        segments: [
          { index: 0, state: 'running', worker: 'h:1:a', seconds: 2 },
          { index: 1, state: 'done', worker: 'h:2:b', seconds: 2 },
          { index: 2, state: 'failed', worker: 'h:3:c', seconds: 1, reason: 'load segment 3/3 (execution segment 2/3:1) lost its worker h:3:c' },
        ],
      }),
    ];
    const d = segmentsOf(events)!;
    expect(d.xs).toEqual([1000, 2000]);
    expect(d.rps).toEqual([14, 10]);
    expect(d.target).toEqual([15, 10]);
    expect(d.segments.map((s) => [s.state, s.worker, s.rps, s.target])).toEqual([
      ['running', 'h:1:a', [5, 5], [5, 5]],
      ['done', 'h:2:b', [4, 5], [5, 5]],
      ['failed', 'h:3:c', [5, null], [5, null]],
    ]);
    expect(d.segments[2].reason).toMatch(/lost its worker h:3:c/);
  });
});
