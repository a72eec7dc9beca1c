/**
 * The `running` phase: the load, with the fault timeline counting from the
 * load's first scheduled iteration and the abort conditions fed every second
 * and every client history event.
 *
 * A load of N > 1 segments on the built-in engine is split over the
 * platform's `load` queue (workers/load: any worker takes a segment; seconds
 * merged live, the result exactly); a lost segment ends the run errored
 * naming it. With k6, loadtests runs the N k6 processes here.
 */
import { resolveK6Bin, type TLoadSecond, type TScenario } from '../../loadtests/index.js';
import { distributeLoad, formatSegmentProgress } from '../load/index.js';
import { AbortEvaluator } from './abort.js';
import type { FaultTimeline } from './fault-timeline.js';
import type { TRunLoadOptions } from './ports.js';
import type { TSegmentSecondEvent } from './events.js';
import type { RunContext } from './run-context.js';

/** Run the load to its end (or until the run is stopped); the result is kept on the context. */
export async function runLoadPhase(ctx: RunContext, scenario: TScenario, timeline: FaultTimeline, segments = 1): Promise<void> {
  const abortEval = new AbortEvaluator(ctx.experiment.abort, ctx.experiment.steady_state.slos);
  try {
    const opts: TRunLoadOptions = {
      baseUrl: ctx.sut.entryUrl,
      signal: ctx.signal,
      onStart: (t) => timeline.start(t),
      onHistory: (e) => abortEval.addHistory(e),
      onSecond: (s, parts?: { index: number; second: TLoadSecond }[]) => {
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
            ...(parts ? { segments: parts.map(segmentSecond) } : {}),
          },
        });
        const trip = abortEval.check(s.t + 1000);
        if (trip) {
          void ctx.emit({ type: 'abort', reason: trip.reason, condition: trip.condition });
          ctx.abort(trip.reason);
        }
      },
    };
    if (segments > 1 && !resolveK6Bin()) {
      await ctx.emit({ type: 'note', level: 'info', msg: `load split into ${segments} segments on the ${ctx.p.prefix}:load queue` });
      // the run page shows the last note: the segments' states on every change, their seconds every 5 s at most
      let lastStates = '';
      let lastNoteAt = 0;
      ctx.load = await distributeLoad(ctx.p, scenario, {
        ...opts,
        baseUrl: opts.baseUrl!,
        loadId: ctx.runId,
        segments,
        heartbeatTimeoutMs: ctx.o.segmentHeartbeatTimeoutMs,
        onSegments: (states) => {
          const changed = states.map((s) => s.state).join() !== lastStates;
          if (!changed && Date.now() - lastNoteAt < 5000) return;
          lastStates = states.map((s) => s.state).join();
          lastNoteAt = Date.now();
          void ctx.emit({ type: 'note', level: 'info', msg: formatSegmentProgress(states) });
          void ctx.emit({ type: 'load.segments', count: segments, segments: states });
        },
      });
    } else ctx.load = await ctx.deps.runLoad((scenario.segments ?? 1) === segments ? scenario : { ...scenario, segments }, opts);
  } catch (e) {
    // a stopped run's load ends by throwing; only an unexpected failure is the load's
    if (!ctx.signal.aborted) throw e;
  }
}

/** A segment's own second as the run page charts it against its share of the schedule. */
function segmentSecond({ index, second: s }: { index: number; second: TLoadSecond }): TSegmentSecondEvent {
  return { index, rps: s.rps, target: s.target, errors: Object.values(s.errorsByKind).reduce((a, b) => a + b, 0), dropped: s.dropped };
}
