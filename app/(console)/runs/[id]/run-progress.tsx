'use client';
/**
 * Where the run is: its steps (queued → steady state → setting up → load →
 * settling → analysis → verdict), a progress bar and the elapsed time since
 * the load really started (setup, e.g. registering the scenario's users, is
 * its own step and not counted).
 */
import { dur } from '../../../_components/format.js';
import { Time } from '../../../_components/time.js';
import type { TStoredRunEvent } from '../../../../workers/index.js';
import type { TRunView } from '../../../_lib/runs.js';
import { reachedStage, STAGES, stageLabel, type TSettle, type TStage } from './run-model.js';

export function RunProgress(p: {
  view: TRunView;
  stage: TStage | 'done';
  loadStart: number | null;
  plannedMs: number | null;
  settle: TSettle | null;
  loadTest: boolean;
  events: readonly TStoredRunEvent[];
  now: number;
}) {
  const { view, stage, loadStart, plannedMs } = p;
  const state = view.run.state;
  const done = stage === 'done';
  const idx = done ? STAGES.length : STAGES.indexOf(stage);
  // a finished run marks only the steps it went through (an abort at the steady state leaves the rest dim)
  const reached = done ? reachedStage(p.events, loadStart !== null) : idx - 1;
  const endedAt = view.run.endedAt ? Date.parse(String(view.run.endedAt)) : null;
  const loadEnd = view.report?.series.seconds.length ? view.report.series.seconds[view.report.series.seconds.length - 1].t + 1000 : null;
  const elapsed = loadStart === null ? null : Math.max(0, (loadEnd && stage !== 'running' ? loadEnd : done && endedAt ? endedAt : p.now) - loadStart);
  const within = stage === 'running' && plannedMs && elapsed !== null ? Math.min(1, elapsed / plannedMs) : 0.5;
  const progress = done ? 100 : ((idx + within) / (STAGES.length + 1)) * 100;
  const last = [...p.events].reverse().find((e) => e.type === 'note' || e.type === 'abort' || e.type === 'fault.failed');
  const lastText = !last
    ? ''
    : last.type === 'note'
      ? last.msg
      : last.type === 'abort'
        ? last.reason
        : last.type === 'fault.failed'
          ? `${last.name}: ${last.error}`
          : '';
  return (
    <section className="panel">
      <div className="phases" data-testid="phases">
        {STAGES.map((s, i) => (
          <span key={s} className={i <= reached ? 'done' : i === idx ? 'now' : ''} data-stage={s}>
            {stageLabel(s, { loadTest: p.loadTest, settle: p.settle })}
          </span>
        ))}
        <span className={done ? 'now' : ''}>{done ? state : 'verdict'}</span>
      </div>
      <div className="progress">
        <div className={done ? (state === 'passed' ? 'is-ok' : 'is-bad') : undefined} style={{ width: `${progress}%` }} />
      </div>
      <div className="row under-progress">
        <span className="muted" data-testid="run-clock">
          trigger {view.run.trigger} · created <Time at={String(view.run.createdAt)} />
          {stage === 'setting_up' && ' · setting up the scenario (no load yet)'}
          {elapsed !== null && ` · load ${dur(elapsed)}${plannedMs ? ` of ${dur(plannedMs)}` : ''}`}
          {p.settle &&
            ` · ${p.settle.settled ? 'settled' : 'not settled'} after ${dur(p.settle.waitedMs)}${p.settle.detail && p.settle.detail !== 'settled' ? ` (${p.settle.detail})` : ''}`}
        </span>
        <span className="spacer" />
        {lastText && !done && <span className="muted">{lastText}</span>}
      </div>
      {(view.run.reason || view.report?.reason) && done && (
        <div className={state === 'passed' ? 'muted under-progress' : 'under-progress'} data-testid="run-reason">
          {view.report?.reason ?? view.run.reason}
        </div>
      )}
    </section>
  );
}
