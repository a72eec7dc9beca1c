'use client';
/**
 * One run, live or finished, without a page reload: the event stream
 * (useRunEvents) drives the steps, the charts and the tailing logs; at the
 * verdict the report replaces the live figures.
 */
import { useMemo } from 'react';
import { api, ApiError } from '../../../_components/api.js';
import { Panel } from '../../../_components/panel.js';
import { EmptyState, ErrorBox, Loading } from '../../../_components/states.js';
import { VerdictBadge } from '../../../_components/verdict-badge.js';
import type { TRunView } from '../../../_lib/runs.js';
import { chartRange, faultWindows, isLoadTest, liveSeconds, loadStartOf, plannedLoadMs, settleOf, stageOf } from './run-model.js';
import { RunCharts } from './run-charts.js';
import { RunLogs } from './run-logs.js';
import { RunProgress } from './run-progress.js';
import { SegmentCharts } from './segment-charts.js';
import { Results } from './results.js';
import { useNow, useRunEvents } from './use-run-events.js';

export function RunView({ initial, canOperate }: { initial: TRunView; canOperate: boolean }) {
  const { view, events, stream, terminal, error, setError } = useRunEvents(initial);
  const id = view.run.id;
  const state = view.run.state;
  const now = useNow(!terminal);
  const report = view.report;
  const loadTest = isLoadTest(view.run.definition);
  const live = useMemo(() => liveSeconds(events), [events]);
  const seconds = report?.series.seconds.length ? report.series.seconds : live;
  const windows = useMemo(() => faultWindows(report, events, now), [report, events, now]);
  const loadStart = loadStartOf(events, report);
  const planned = plannedLoadMs(view.run.definition);
  const range = useMemo(() => chartRange(loadStart, planned, seconds, windows, now), [loadStart, planned, seconds, windows, now]);
  const stage = stageOf(state, loadStart !== null);
  const settle = settleOf(events, report);

  return (
    <>
      <div className="row">
        <h1>{view.run.experimentName}</h1>
        {loadTest && <span className="badge b-dim">load test</span>}
        <VerdictBadge state={state} testId="run-state" />
        <span className="mono dim">{id}</span>
        <span className="spacer" />
        <span className="dim" data-testid="stream-state">
          {stream === 'live' && !terminal ? '● live' : stream === 'error' && !terminal ? 'reconnecting…' : ''}
        </span>
        {canOperate && !terminal && (
          <button className="danger" onClick={() => api(`/api/runs/${id}/abort`, { method: 'POST' }).catch((e) => setError(e as ApiError))}>
            Abort run
          </button>
        )}
      </div>
      <ErrorBox error={error} />
      <RunProgress view={view} stage={stage} loadStart={loadStart} plannedMs={planned} settle={settle} loadTest={loadTest} events={events} now={now} />
      {seconds.length > 0 ? (
        <RunCharts runId={id} seconds={seconds} windows={loadTest ? [] : windows} range={range} report={report} live={!terminal} />
      ) : (
        <Panel>
          {terminal ? (
            <EmptyState>This run produced no load figures{view.run.reason ? `: ${view.run.reason}` : ''}.</EmptyState>
          ) : (
            <Loading what={waitingFor(stage)} />
          )}
        </Panel>
      )}
      <SegmentCharts events={events} windows={loadTest ? [] : windows} range={range} />
      <Results view={view} terminal={terminal} loadTest={loadTest} />
      <RunLogs runId={id} live={!terminal} />
    </>
  );
}

function waitingFor(stage: string): string {
  if (stage === 'queued') return 'run (waiting for a worker / the target)';
  if (stage === 'steady_state') return 'steady-state check (is the target healthy before the load?)';
  if (stage === 'setting_up') return 'scenario setup (registering users, reading products): charts start with the first second of load';
  return 'load figures (charts appear with the first second of load)';
}
