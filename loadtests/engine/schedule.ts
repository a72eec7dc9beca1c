/**
 * Pure schedules of k6's executors, in milliseconds from the executor start.
 * They mirror k6's arithmetic (Go durations are integer nanoseconds, so we
 * compute in ns and truncate where Go converts to time.Duration):
 *
 *   constant-arrival-rate   i·timeUnit/rate, first at 0
 *   ramping-arrival-rate    k6's cal(): iteration n starts when ∫rate dt = n
 *   ramping-vus             getRawExecutionSteps(): one step per VU change
 */
import { scaleInt, type TExecutionTuple } from '../segments.js';

export interface TStage {
  durationMs: number;
  target: number;
}

/**
 * Intended start offsets of constant-arrival-rate (k6 constant_arrival_rate.go):
 * i·timeUnit/rate from t=0 while before the duration. k6 multiplies a period
 * truncated to whole ns, which at e.g. 30/s lets a 61st tick land 20 ns before
 * the end of a 2 s run and race the end timer; the exact ratio used here
 * differs by < i ns and always yields rate·duration/timeUnit iterations.
 */
export function* constantArrivalOffsets(rate: number, timeUnitMs: number, durationMs: number, tuple?: TExecutionTuple): Generator<number> {
  const unitNs = Math.round(timeUnitMs * 1e6);
  const endNs = Math.round(durationMs * 1e6);
  // with a segment, only the global indices of its stripe (k6: gi = start, += offsets)
  const next = stripeStepper(tuple);
  for (let i = tuple?.start ?? 0; i * unitNs < endNs * rate; i += next()) yield Math.floor((i * unitNs) / rate) / 1e6;
}

/** Step from one owned global index to the next (1 without a segment). */
function stripeStepper(tuple: TExecutionTuple | undefined): () => number {
  if (!tuple || tuple.sequence.length === 1) return () => 1;
  let g = 0;
  return () => {
    const d = tuple.offsets[g];
    g = (g + 1) % tuple.offsets.length;
    return d;
  };
}

/**
 * k6's ramping-arrival-rate `cal()`: linear ramps between stage targets, the
 * n-th iteration (n from 1, not 0) starts where the area under the rate curve
 * reaches n; the fractional remainder carries over into the next stage.
 */
export function* rampingArrivalOffsets(startRate: number, timeUnitMs: number, stages: TStage[], tuple?: TExecutionTuple): Generator<number> {
  const timeUnit = timeUnitMs * 1e6;
  let stageStart = 0;
  let doneSoFar = 0;
  let endCount = 0;
  let from = startRate / timeUnit;
  // areas are 1-based: global iteration index g starts where the area reaches g+1
  const next = stripeStepper(tuple);
  let i = (tuple?.start ?? 0) + 1;
  for (const st of stages) {
    const to = st.target / timeUnit;
    const dur = st.durationMs * 1e6;
    if (from !== to) {
      endCount += dur * ((to - from) / 2 + from);
      for (; i <= endCount; i += next()) {
        // solve i = from·t + (to−from)/(2·dur)·t² + doneSoFar for t
        const t = (Math.sqrt(dur * (2 * (to - from) * (i - doneSoFar) + dur * from * from)) - dur * from) / (to - from);
        yield (Math.trunc(t) + stageStart) / 1e6;
      }
    } else {
      endCount += dur * to;
      if (to !== 0) for (; i <= endCount; i += next()) yield (Math.trunc((i - doneSoFar) / to) + stageStart) / 1e6;
    }
    doneSoFar = endCount;
    from = to;
    stageStart += dur;
  }
}

/** Scheduled rate (iterations per second) at offset `tMs` of a ramping-arrival-rate. */
export function rampingRateAt(startRate: number, timeUnitMs: number, stages: TStage[], tMs: number): number {
  let from = startRate;
  let t0 = 0;
  for (const st of stages) {
    if (tMs < t0 + st.durationMs) {
      const f = st.durationMs === 0 ? 1 : (tMs - t0) / st.durationMs;
      return ((from + (st.target - from) * f) * 1000) / timeUnitMs;
    }
    t0 += st.durationMs;
    from = st.target;
  }
  return 0;
}

export interface TVuStep {
  tMs: number;
  vus: number;
}

/**
 * k6's ramping-vus raw execution steps, ending with 0 VUs at the end of the
 * stages. With a segment, each unscaled VU count maps to this segment's share
 * of it (k6 walks a SegmentedIndex: a step is kept only when the scaled count
 * changes), so the segments' VUs add up to the unsegmented count at all times.
 */
export function rampingVuSteps(startVUs: number, stages: TStage[], tuple?: TExecutionTuple): TVuStep[] {
  const all = rampingVuStepsUnscaled(startVUs, stages);
  if (!tuple || tuple.sequence.length === 1) return all;
  const out: TVuStep[] = [];
  for (const st of all) {
    const vus = scaleInt(tuple, st.vus);
    if (!out.length || out[out.length - 1].vus !== vus) out.push({ tMs: st.tMs, vus });
  }
  return out;
}

function rampingVuStepsUnscaled(startVUs: number, stages: TStage[]): TVuStep[] {
  const steps: TVuStep[] = [{ tMs: 0, vus: startVUs }];
  const add = (tNs: number, vus: number) => {
    if (steps[steps.length - 1].vus !== vus) steps.push({ tMs: tNs / 1e6, vus });
  };
  let timeTillEnd = 0;
  let fromVUs = startVUs;
  // `unscaled` is k6's segmented index position: after a ramp-up it rests one past the target
  let unscaled = startVUs;
  for (const st of stages) {
    const end = st.target;
    const dur = st.durationMs * 1e6;
    timeTillEnd += dur;
    const diff = end - fromVUs;
    if (diff === 0) continue;
    if (dur === 0) {
      unscaled = end;
      add(timeTillEnd, end);
      fromVUs = end;
      continue;
    }
    if (unscaled > end) {
      for (; unscaled > end; unscaled--) add(timeTillEnd - Math.trunc((dur * (end - unscaled + 1)) / diff), unscaled - 1);
    } else {
      for (; unscaled <= end; unscaled++) add(timeTillEnd - Math.trunc((dur * (end - unscaled)) / diff), unscaled);
    }
    fromVUs = end;
  }
  if (steps[steps.length - 1].vus !== 0) steps.push({ tMs: timeTillEnd / 1e6, vus: 0 });
  return steps;
}
