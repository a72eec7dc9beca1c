/**
 * The `running` phase: the load, with the fault timeline counting from the
 * load's first scheduled iteration and the abort conditions fed every second
 * and every client history event.
 */
import { AbortEvaluator } from './abort.js';
import type { FaultTimeline } from './fault-timeline.js';
import type { TScenario } from '../../loadtests/index.js';
import type { RunContext } from './run-context.js';

/** Run the load to its end (or until the run is stopped); the result is kept on the context. */
export async function runLoadPhase(ctx: RunContext, scenario: TScenario, timeline: FaultTimeline): Promise<void> {
  const abortEval = new AbortEvaluator(ctx.experiment.abort, ctx.experiment.steady_state.slos);
  try {
    ctx.load = await ctx.deps.runLoad(scenario, {
      baseUrl: ctx.p.gatewayUrl,
      signal: ctx.signal,
      onStart: (t) => timeline.start(t),
      onHistory: (e) => abortEval.addHistory(e),
      onSecond: (s) => {
        // engines without onStart: the first second marks the load start
        timeline.start(s.t);
        const errors = Object.values(s.errorsByKind).reduce((a, b) => a + b, 0);
        abortEval.addSecond({ t: s.t, requests: s.rps, errors });
        void ctx.emit({
          type: 'load.second',
          second: {
            t: s.t,
            rps: s.rps,
            target: s.target,
            errors,
            errorsByKind: s.errorsByKind,
            p50: s.p50,
            p95: s.p95,
            p99: s.p99,
            cp99: s.cp99,
            activeVus: s.activeVus,
            dropped: s.dropped,
          },
        });
        const trip = abortEval.check(s.t + 1000);
        if (trip) {
          void ctx.emit({ type: 'abort', reason: trip.reason, condition: trip.condition });
          ctx.abort(trip.reason);
        }
      },
    });
  } catch (e) {
    // a stopped run's load ends by throwing; only an unexpected failure is the load's
    if (!ctx.signal.aborted) throw e;
  }
}
