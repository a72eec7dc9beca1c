/**
 * Live abort conditions (pure): fed each load second and each client
 * history event, answers whether an abort condition has tripped.
 *
 *  error_rate: the client error percentage of every second in the last
 *              `for` ms (a full window of seconds) is above `above`.
 *  burn_rate:  over the last `window` ms, bad/valid of the SLO's route,
 *              divided by (1 − objective), is above `above`.
 */
import type { TAbortCondition, TSlo } from '../../experiments/index.js';
import { isAvailable } from '../analysis/slo.js';
import { routeOfEvent, type THistoryEventLike } from '../analysis/types.js';

export interface TAbortSecond {
  /** Epoch ms, start of the second. */
  t: number;
  /** Requests completed in the second. */
  requests: number;
  errors: number;
}

export interface TAbortTrip {
  reason: string;
  condition: TAbortCondition;
}

/** Minimum valid events in a burn-rate window before it can trip (a handful of requests proves nothing). */
const MIN_BURN_EVENTS = 20;

export class AbortEvaluator {
  private readonly seconds: TAbortSecond[] = [];
  /** Per SLO name: per-second good/valid. */
  private readonly sloBins = new Map<string, Map<number, { good: number; valid: number }>>();

  constructor(
    private readonly conditions: readonly TAbortCondition[],
    private readonly slos: readonly TSlo[],
  ) {}

  addSecond(s: TAbortSecond): void {
    this.seconds.push(s);
    if (this.seconds.length > 3600) this.seconds.shift();
  }

  addHistory(e: THistoryEventLike): void {
    if (e.type === 'invoke') return;
    const route = routeOfEvent(e);
    for (const slo of this.slos) {
      if (slo.route !== route) continue;
      let good: boolean;
      if (slo.sli === 'availability') good = isAvailable(e);
      else if (e.type === 'info') good = false;
      else {
        const lat = e.correctedLatencyMs ?? e.latencyMs;
        if (lat === undefined) continue;
        good = lat <= (slo.threshold_ms ?? Infinity);
      }
      let bins = this.sloBins.get(slo.name);
      if (!bins) this.sloBins.set(slo.name, (bins = new Map()));
      const sec = Math.floor(e.time / 1000) * 1000;
      const b = bins.get(sec) ?? { good: 0, valid: 0 };
      b.valid++;
      if (good) b.good++;
      bins.set(sec, b);
    }
  }

  /** The first condition tripped as of `now` (epoch ms), if any. */
  check(now: number): TAbortTrip | undefined {
    for (const c of this.conditions) {
      if (c.kind === 'error_rate') {
        const need = Math.max(1, Math.round(c.for / 1000));
        const recent = this.seconds.slice(-need);
        if (recent.length < need) continue;
        const allAbove = recent.every((s) => s.requests > 0 && (100 * s.errors) / s.requests > c.above);
        if (allAbove) {
          const worst = Math.min(...recent.map((s) => (100 * s.errors) / s.requests));
          return { condition: c, reason: `error rate above ${c.above}% for ${need}s (lowest second ${worst.toFixed(1)}%)` };
        }
      } else {
        const slo = this.slos.find((s) => s.name === c.slo);
        const bins = this.sloBins.get(c.slo);
        if (!slo || !bins) continue;
        let good = 0;
        let valid = 0;
        for (const [sec, b] of bins) {
          if (sec >= now - c.window && sec < now) {
            good += b.good;
            valid += b.valid;
          }
        }
        if (valid < MIN_BURN_EVENTS) continue;
        const burn = (valid - good) / valid / (1 - slo.objective / 100);
        if (burn > c.above)
          return { condition: c, reason: `SLO ${slo.name} burn rate ${burn.toFixed(1)} above ${c.above} over the last ${Math.round(c.window / 1000)}s` };
      }
    }
    return undefined;
  }
}
