import { describe, expect, it } from 'vitest';
import { isAppError } from '../../core/errors.js';
import { constantArrivalOffsets, rampingArrivalOffsets, rampingVuSteps } from '../engine/schedule.js';
import {
  evenSegmentSpec,
  evenTuple,
  executionTuple,
  formatSegment,
  formatSequence,
  parseSegment,
  parseSegmentSequence,
  scaleInt,
  segmentFlags,
  segmentScale,
  splitEvenly,
  stripedIndices,
  tupleOf,
} from '../segments.js';

const tuple = (seg: string, seq?: string) => executionTuple(parseSegment(seg), seq === undefined ? undefined : parseSegmentSequence(seq));

function fieldError(fn: () => unknown): { path: string; message: string } {
  try {
    fn();
  } catch (e) {
    if (isAppError(e)) return e.issues![0] as { path: string; message: string };
    throw e;
  }
  throw new Error('expected an AppError');
}

describe('parsing --execution-segment as k6 does', () => {
  it('accepts fractions, decimals, whole percentages and mixes of them (k6: `2/4:75%` is (1/2, 3/4])', () => {
    for (const s of ['1/2:3/4', '0.5:0.75', '50%:75%', '2/4:75%', ' .5:0.75 ', '5e-1:75e-2']) expect(formatSegment(parseSegment(s))).toBe('1/2:3/4');
  });

  it('reads a single value v as (0, v] and empty as the whole run', () => {
    expect(formatSegment(parseSegment('20%'))).toBe('0:1/5');
    expect(formatSegment(parseSegment('0.2'))).toBe('0:1/5');
    expect(formatSegment(parseSegment('1/5'))).toBe('0:1/5');
    expect(formatSegment(parseSegment(''))).toBe('0:1');
  });

  it('rejects what k6 rejects, naming the flag', () => {
    expect(fieldError(() => parseSegment('1/2:1/3'))).toMatchObject({ path: 'execution-segment', message: expect.stringContaining('less than its end') });
    expect(fieldError(() => parseSegment('0:1.5')).message).toMatch(/more than 1/);
    expect(fieldError(() => parseSegment('-0.5:1')).message).toMatch(/at least 0/);
    expect(fieldError(() => parseSegment('12.5%')).message).toMatch(/percentage/);
    expect(fieldError(() => parseSegment('half')).message).toMatch(/not a valid/);
    expect(fieldError(() => parseSegment('1/0')).message).toMatch(/zero denominator/);
  });
});

describe('parsing --execution-segment-sequence (k6 TestExecutionSegmentStringSequences)', () => {
  it.each([
    ['0.5,1', ['1/2:1']],
    ['1/3,2/3', ['1/3:2/3']],
    ['0,1/3,2/3,1', ['0:1/3', '1/3:2/3', '2/3:1']],
    ['0.5,0.7,1', ['1/2:7/10', '7/10:1']],
    ['0,1/13,2/13,1/3,1/2,3/4,1', ['0:1/13', '1/13:2/13', '2/13:1/3', '1/3:1/2', '1/2:3/4', '3/4:1']],
  ])('%s', (seq, segs) => {
    expect(parseSegmentSequence(seq)!.map(formatSegment)).toEqual(segs);
  });

  it.each(['0.5', '1,1', '-0.5,1', '1/2,1/2', '1/2,1/3', '0,1,1/2'])('rejects %s', (seq) => {
    expect(fieldError(() => parseSegmentSequence(seq)).path).toBe('execution-segment-sequence');
  });

  it('round-trips through its string form and is absent when empty', () => {
    expect(formatSequence(parseSegmentSequence('0,1/13,2/13,1/3,1/2,3/4,1')!)).toBe('0,1/13,2/13,1/3,1/2,3/4,1');
    expect(parseSegmentSequence('')).toBeUndefined();
  });
});

describe("k6's striping (TestGetStripedOffsets)", () => {
  it.each([
    ['0,0.3,0.5,0.6,0.7,0.8,0.9,1', '0:0.3', 0, [4, 3, 3], 10],
    ['0,0.3,0.5,0.6,0.7,0.8,0.9,1', '0.3:0.5', 1, [4, 6], 10],
    ['0,0.3,0.5,0.6,0.7,0.8,0.9,1', '0.5:0.6', 2, [10], 10],
    ['0,0.3,0.5,0.6,0.7,0.8,0.9,1', '0.6:0.7', 3, [10], 10],
    ['0,0.3,0.5,0.6,0.7,0.8,0.9,1', '0.8:0.9', 8, [10], 10],
    ['0,0.3,0.5,0.6,0.7,0.8,0.9,1', '0.9:1', 9, [10], 10],
    ['0,0.2,0.5,0.6,0.7,0.8,0.9,1', '0.9:1', 9, [10], 10],
    ['0,0.2,0.5,0.6,0.7,0.8,0.9,1', '0:0.2', 1, [4, 6], 10],
    ['0,0.2,0.5,0.6,0.7,0.8,0.9,1', '0.6:0.7', 3, [10], 10],
    ['0,0.2,0.5', '0:0.2', 3, [6, 4], 10],
    ['0,0.2,0.5', '0.2:0.5', 1, [4, 2, 4], 10],
    ['0,2/5,4/5', '0:2/5', 0, [3, 2], 5],
    ['0,2/5,4/5', '2/5:4/5', 1, [3, 2], 5],
    [undefined, '0:0.2', 1, [5], 5],
    [undefined, '0:1/5', 1, [5], 5],
    [undefined, '0:2/10', 1, [5], 5],
    [undefined, '0:0.4', 1, [2, 3], 5],
    [undefined, '2/5:4/5', 1, [3, 2], 5],
    [undefined, '1/10:5/10', 1, [2, 2, 4, 2], 10],
  ] as const)('sequence %s, segment %s → start %i, offsets %j, lcd %i', (seq, seg, start, offsets, lcd) => {
    const t = tuple(seg, seq);
    expect({ start: t.start, offsets: t.offsets, lcd: t.lcd }).toEqual({ start, offsets, lcd });
  });

  it('deals every index of a block to exactly one segment of a sequence', () => {
    const seq = parseSegmentSequence('0,1/13,2/13,1/3,1/2,3/4,1')!;
    const owner = new Map<number, number>();
    seq.forEach((seg, si) => {
      const it = stripedIndices(executionTuple(seg, seq));
      for (let v = it.next().value!; v < 3 * 156; v = it.next().value!) {
        expect(owner.has(v)).toBe(false);
        owner.set(v, si);
      }
    });
    expect(owner.size).toBe(3 * 156);
  });
});

describe('VU scaling (k6 ExecutionTuple.ScaleInt64)', () => {
  it("matches k6's TestExecutionTupleScale", () => {
    expect([scaleInt(tuple('0.5'), 2), scaleInt(tuple('0.5'), 3)]).toEqual([1, 2]);
    expect([scaleInt(tuple('0.5:1.0'), 2), scaleInt(tuple('0.5:1.0'), 3)]).toEqual([1, 1]);
    expect([scaleInt(tuple('0.5', '0,0.5,1'), 2), scaleInt(tuple('0.5', '0,0.5,1'), 3)]).toEqual([1, 2]);
    expect([scaleInt(tuple('0.5:1.0', '0,0.5,1'), 2), scaleInt(tuple('0.5:1.0', '0,0.5,1'), 3)]).toEqual([1, 1]);
  });

  it("matches the table in k6's ExecutionTuple documentation (segments 0:1/2, 1/2:3/4, 3/4:1, values 1..12)", () => {
    const seq = '0,1/2,3/4,1';
    const values = (seg: string) => Array.from({ length: 12 }, (_, i) => scaleInt(tuple(seg, seq), i + 1));
    expect(values('0:1/2')).toEqual([1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6]);
    expect(values('1/2:3/4')).toEqual([0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3]);
    expect(values('3/4:1')).toEqual([0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3]);
  });

  it('matches k6 TestNewExecutionTuple (0:1/3 of thirds: 50 → 17, 3/2/1 → 1)', () => {
    const t = tuple('0:1/3', '0,1/3,2/3,1');
    expect([50, 3, 2, 1, 0].map((v) => scaleInt(t, v))).toEqual([17, 1, 1, 1, 0]);
  });

  it('splits any value so that the segments add up to it, and never shrinks as the value grows', () => {
    for (let n = 1; n <= 7; n++) {
      const tuples = Array.from({ length: n }, (_, i) => evenTuple(i, n));
      for (let v = 0; v <= 300; v++) {
        expect(tuples.reduce((sum, t) => sum + scaleInt(t, v), 0)).toBe(v);
        if (v > 0) for (const t of tuples) expect(scaleInt(t, v)).toBeGreaterThanOrEqual(scaleInt(t, v - 1));
      }
    }
  });

  it("keeps k6's (unstable) ExecutionSegment.Scale for reference (TestExecutionSegmentFailures)", () => {
    const sc = (s: string, v: number) => segmentScale(parseSegment(s), v);
    expect([
      sc('0:0.25', 2),
      sc('0:0.25', 3),
      sc('0.25:0.5', 2),
      sc('0.25:0.5', 3),
      sc('0.5:0.75', 2),
      sc('0.5:0.75', 3),
      sc('0.75:1', 2),
      sc('0.75:1', 3),
    ]).toEqual([1, 1, 0, 1, 1, 0, 0, 1]);
  });
});

/** Merge the segments' schedules (each ascending) and compare to the unsegmented one. */
function unionOf(lists: number[][]): number[] {
  return lists.flat().sort((a, b) => a - b);
}

describe('segments of an arrival-rate schedule union to exactly the unsegmented schedule', () => {
  const rampStages = [
    { durationMs: 3000, target: 50 },
    { durationMs: 2000, target: 50 },
    { durationMs: 2500, target: 7 },
    { durationMs: 1000, target: 0 },
  ];
  for (let n = 1; n <= 4; n++) {
    it(`constant-arrival-rate, ${n} segment(s): same start times, counts add up`, () => {
      for (const [rate, unit, dur] of [
        [333, 1000, 3000],
        [40, 1000, 4000],
        [7, 3000, 10_000],
        [1000, 1000, 2000],
      ] as const) {
        const whole = [...constantArrivalOffsets(rate, unit, dur)];
        const parts = Array.from({ length: n }, (_, i) => [...constantArrivalOffsets(rate, unit, dur, evenTuple(i, n))]);
        expect(unionOf(parts)).toEqual(whole);
        // as even as k6's striping makes them: no segment more than one iteration off its share
        for (const p of parts) expect(Math.abs(p.length - whole.length / n)).toBeLessThanOrEqual(1);
      }
    });

    it(`ramping-arrival-rate, ${n} segment(s): same start times, counts add up`, () => {
      for (const [startRate, unit] of [
        [0, 1000],
        [10, 1000],
        [3, 500],
      ] as const) {
        const whole = [...rampingArrivalOffsets(startRate, unit, rampStages)];
        const parts = Array.from({ length: n }, (_, i) => [...rampingArrivalOffsets(startRate, unit, rampStages, evenTuple(i, n))]);
        expect(whole.length).toBeGreaterThan(100);
        expect(unionOf(parts)).toEqual(whole);
      }
    });
  }

  it('an uneven sequence (k6 flags 0,1/13,…) also unions to the whole', () => {
    const seq = parseSegmentSequence('0,1/13,2/13,1/3,1/2,3/4,1')!;
    const whole = [...constantArrivalOffsets(997, 1000, 3000)];
    expect(unionOf(seq.map((s) => [...constantArrivalOffsets(997, 1000, 3000, executionTuple(s, seq))]))).toEqual(whole);
    const wholeR = [...rampingArrivalOffsets(5, 1000, rampStages)];
    expect(unionOf(seq.map((s) => [...rampingArrivalOffsets(5, 1000, rampStages, executionTuple(s, seq))]))).toEqual(wholeR);
  });

  it('ramping-vus steps of the segments add up to the unsegmented VU count at every step time', () => {
    const stages = [
      { durationMs: 2000, target: 9 },
      { durationMs: 1000, target: 9 },
      { durationMs: 2000, target: 2 },
    ];
    const whole = rampingVuSteps(3, stages);
    const vusAt = (steps: { tMs: number; vus: number }[], t: number) => steps.filter((s) => s.tMs <= t).at(-1)?.vus ?? 0;
    for (let n = 2; n <= 4; n++) {
      const parts = Array.from({ length: n }, (_, i) => rampingVuSteps(3, stages, evenTuple(i, n)));
      // compare at every distinct step time (the last ramp step and the final 0 may share one)
      for (const t of new Set(whole.map((st) => st.tMs))) expect(parts.reduce((sum, p) => sum + vusAt(p, t), 0)).toBe(vusAt(whole, t));
    }
  });
});

describe('segment specs (what crosses process boundaries)', () => {
  it('names segment i of n with both k6 flags, and parses back to the same stripe', () => {
    expect(evenSegmentSpec(1, 4)).toEqual({ segment: '1/4:1/2', sequence: '0,1/4,1/2,3/4,1' });
    expect(segmentFlags(evenSegmentSpec(0, 2))).toEqual(['--execution-segment', '0:1/2', '--execution-segment-sequence', '0,1/2,1']);
    expect(tupleOf(evenSegmentSpec(2, 3))).toEqual(evenTuple(2, 3));
    expect(splitEvenly(3).map(formatSegment)).toEqual(['0:1/3', '1/3:2/3', '2/3:1']);
  });

  it('rejects a segment that is not in its sequence', () => {
    expect(fieldError(() => tupleOf({ segment: '0:1/3', sequence: '0,1/2,1' })).path).toBe('execution-segment');
  });
});
