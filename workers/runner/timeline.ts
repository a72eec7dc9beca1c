/**
 * Timeline planning (pure): an experiment's timed faults become an ordered
 * list of apply/remove actions relative to load start. The experiment is
 * configuration; this plan is derived state (STYLE.md).
 */
import type { TExperiment, TTimedFault } from '../../experiments/index.js';
import { parseDuration as parseK6Duration } from '../../loadtests/index.js';

export interface TTimelineAction {
  /** ms after load start. */
  at: number;
  kind: 'apply' | 'remove';
  fault: TTimedFault;
}

/** Apply/remove actions sorted by time; at equal times removals go first (a fault ending as another starts). */
export function planTimeline(faults: readonly TTimedFault[]): TTimelineAction[] {
  const actions: TTimelineAction[] = [];
  for (const f of faults) {
    actions.push({ at: f.at, kind: 'apply', fault: f });
    actions.push({ at: f.at + f.duration, kind: 'remove', fault: f });
  }
  return actions.sort((a, b) => a.at - b.at || (a.kind === b.kind ? 0 : a.kind === 'remove' ? -1 : 1));
}

/**
 * Load duration of a scenario executor config (ms), when it has a fixed one.
 * Scenario durations are k6 durations (`1m30s`; a bare number is ms), read
 * with loadtests' k6 parser, never the experiment's (where a bare number is
 * seconds and `1m30s` is not a duration). The parser is not a parameter, so
 * it cannot be the wrong one again.
 */
export function executorDurationMs(load: { executor: string; duration?: unknown; stages?: { duration: unknown }[] }): number | undefined {
  const parse = (v: unknown) => (typeof v === 'string' || typeof v === 'number' ? parseK6Duration(v) : undefined);
  if (load.duration !== undefined) return parse(load.duration);
  if (load.stages) {
    let sum = 0;
    for (const s of load.stages) {
      const d = parse(s.duration);
      if (d === undefined) return undefined;
      sum += d;
    }
    return sum;
  }
  return undefined;
}

/**
 * The latest a fault may stay applied if everything that should remove it
 * dies: its planned end plus a grace period (the ledger's `expires_at`, which
 * the reconciler enforces).
 */
export function faultExpiry(loadStartMs: number, f: TTimedFault, graceMs = 30_000): Date {
  return new Date(loadStartMs + f.at + f.duration + graceMs);
}

/** Rough upper bound of a run's duration, for stall timeouts and the CLI's progress bar. */
export function expectedRunMs(e: TExperiment, loadMs: number): number {
  return loadMs + e.quiescence;
}
