import { describe, expect, it } from 'vitest';
import { constantArrivalOffsets, rampingArrivalOffsets, rampingRateAt, rampingVuSteps } from '../engine/schedule.js';

describe('constant-arrival-rate schedule', () => {
  it('starts iteration i at i·period from t=0 and stops before the duration (40/s for 4 s = 160, as in the recorded k6 run)', () => {
    const t = [...constantArrivalOffsets(40, 1000, 4000)];
    expect(t).toHaveLength(160);
    expect(t[0]).toBe(0);
    expect(t[1]).toBe(25);
    expect(t[159]).toBe(3975);
  });

  it('yields rate·duration iterations when the period is not a whole number of ns (3/s for 2 s = 6)', () => {
    const t = [...constantArrivalOffsets(3, 1000, 2000)];
    expect(t).toHaveLength(6);
    expect(t[5]).toBe(1666.666666);
    expect([...constantArrivalOffsets(30, 1000, 2000)]).toHaveLength(60);
  });

  it('honours timeUnit (30 per minute = one every 2 s)', () => {
    expect([...constantArrivalOffsets(30, 60_000, 10_000)]).toEqual([0, 2000, 4000, 6000, 8000]);
  });
});

describe("ramping-arrival-rate schedule (k6's cal())", () => {
  it("matches k6's TestRampingArrivalRateCal: 0→1/s over 5 s, hold 1 s, 1→0 over 5 s", () => {
    const t = [
      ...rampingArrivalOffsets(0, 1000, [
        { durationMs: 5000, target: 1 },
        { durationMs: 1000, target: 1 },
        { durationMs: 5000, target: 0 },
      ]),
    ].map((x) => Math.trunc(x + 1e-6)); // Go yields 5.499999999 s for the 3rd (float64 noise); k6 compares at ms
    expect(t).toEqual([3162, 4472, 5500, 6527, 7837, 11000]);
  });

  it('starts the first iteration where the area reaches 1, not at t=0', () => {
    const t = [...rampingArrivalOffsets(10, 1000, [{ durationMs: 2000, target: 10 }])];
    expect(t).toHaveLength(20);
    expect(t[0]).toBe(100);
    expect(t[19]).toBe(2000);
  });

  it('a linear ramp 0→10/s over 10 s yields 50 iterations at sqrt(2n) s', () => {
    const t = [...rampingArrivalOffsets(0, 1000, [{ durationMs: 10_000, target: 10 }])];
    expect(t).toHaveLength(50);
    expect(t[0]).toBeCloseTo(Math.sqrt(2) * 1000, 3);
    expect(t[49]).toBeCloseTo(10_000, 3);
  });

  it('reports the scheduled rate at a point in time', () => {
    const stages = [
      { durationMs: 10_000, target: 100 },
      { durationMs: 10_000, target: 100 },
    ];
    expect(rampingRateAt(0, 1000, stages, 5000)).toBeCloseTo(50);
    expect(rampingRateAt(0, 1000, stages, 15_000)).toBe(100);
    expect(rampingRateAt(0, 1000, stages, 25_000)).toBe(0);
  });
});

describe('ramping-vus steps (k6 getRawExecutionSteps)', () => {
  it('ramps up one VU per step and ends at 0', () => {
    expect(rampingVuSteps(0, [{ durationMs: 4000, target: 4 }])).toEqual([
      { tMs: 0, vus: 0 },
      { tMs: 1000, vus: 1 },
      { tMs: 2000, vus: 2 },
      { tMs: 3000, vus: 3 },
      { tMs: 4000, vus: 4 },
      { tMs: 4000, vus: 0 },
    ]);
  });

  it('ramps down one VU per step, the first after one step length', () => {
    expect(rampingVuSteps(4, [{ durationMs: 4000, target: 0 }])).toEqual([
      { tMs: 0, vus: 4 },
      { tMs: 1000, vus: 3 },
      { tMs: 2000, vus: 2 },
      { tMs: 3000, vus: 1 },
      { tMs: 4000, vus: 0 },
    ]);
  });

  it('holds, jumps on zero-length stages, and ramps after a ramp', () => {
    const s = rampingVuSteps(1, [
      { durationMs: 2000, target: 3 },
      { durationMs: 1000, target: 3 },
      { durationMs: 0, target: 1 },
      { durationMs: 1000, target: 2 },
    ]);
    expect(s).toEqual([
      { tMs: 0, vus: 1 },
      { tMs: 1000, vus: 2 },
      { tMs: 2000, vus: 3 },
      { tMs: 3000, vus: 1 },
      { tMs: 4000, vus: 2 },
      { tMs: 4000, vus: 0 },
    ]);
  });
});
