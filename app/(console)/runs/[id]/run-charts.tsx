'use client';
/**
 * The run's charts on one shared x range with the fault windows shaded:
 * throughput, latency (k6-style vs corrected), errors by kind, and breaker
 * state lanes — from the live metric samples while the run goes on, from the
 * report's timelines once it is analysed.
 */
import { useEffect, useMemo, useState } from 'react';
import { api } from '../../../_components/api.js';
import { TimeChart, type TSeries, type TWindow } from '../../../_components/chart.js';
import { Panel } from '../../../_components/panel.js';
import { EmptyState } from '../../../_components/states.js';
import { lanesOf, type TReport, type TSecond, type TTimeline } from './run-model.js';

const ERR_COLORS = ['#f2495c', '#ff9830', '#fade2a', '#b877d9', '#8ab8ff', '#ff7383', '#c8f2c2'];

export function RunCharts(p: { runId: string; seconds: TSecond[]; windows: TWindow[]; range: [number, number]; report: TReport | null; live: boolean }) {
  const { seconds, windows, range } = p;
  const xs = useMemo(() => seconds.map((s) => s.t), [seconds]);
  const throughput = useMemo<TSeries[]>(
    () => [
      { label: 'req/s', color: '#73bf69', values: seconds.map((s) => s.rps), width: 1.5 },
      { label: 'scheduled', color: '#5f636b', values: seconds.map((s) => s.target), dash: [4, 4] },
      { label: 'errors/s', color: '#f2495c', values: seconds.map((s) => Object.values(s.errorsByKind).reduce((a, b) => a + b, 0)) },
      { label: 'dropped', color: '#fade2a', values: seconds.map((s) => s.dropped) },
    ],
    [seconds],
  );
  const latency = useMemo<TSeries[]>(
    () => [
      { label: 'p50 (k6)', color: '#8ab8ff', values: seconds.map((s) => s.p50) },
      { label: 'p95 (k6)', color: '#5794f2', values: seconds.map((s) => s.p95) },
      { label: 'p99 (k6)', color: '#3274d9', values: seconds.map((s) => s.p99), width: 1.5 },
      { label: 'p95 corrected', color: '#ff9830', values: seconds.map((s) => (Number.isFinite(s.cp95) ? s.cp95 : null)), dash: [5, 3] },
      { label: 'p99 corrected', color: '#f2495c', values: seconds.map((s) => s.cp99), dash: [5, 3], width: 1.5 },
    ],
    [seconds],
  );
  const errors = useMemo<TSeries[]>(() => {
    const kinds = [...new Set(seconds.flatMap((s) => Object.keys(s.errorsByKind)))].sort();
    return kinds.map((k, i) => ({ label: k, color: ERR_COLORS[i % ERR_COLORS.length], values: seconds.map((s) => s.errorsByKind[k] ?? 0) }));
  }, [seconds]);
  const timelines = useBreakerTimelines(p.runId, p.report, p.live);
  const lanes = useMemo(() => lanesOf(timelines ?? []), [timelines]);
  return (
    <>
      <div className="grid2">
        <TimeChart title="Throughput (req/s)" xs={xs} series={throughput} windows={windows} range={range} testId="chart-throughput" />
        <TimeChart
          title="Latency: k6-style vs corrected for coordinated omission (ms)"
          xs={xs}
          series={latency}
          windows={windows}
          range={range}
          testId="chart-latency"
        />
      </div>
      <div className="grid2">
        {errors.length ? (
          <TimeChart title="Errors by kind (per second)" xs={xs} series={errors} windows={windows} range={range} testId="chart-errors" />
        ) : (
          <Panel title="Errors by kind">
            <EmptyState>No failed request.</EmptyState>
          </Panel>
        )}
        {lanes.length ? (
          <TimeChart
            title={`Circuit breakers (closed · open · half-open)${p.report ? '' : ' · live'}`}
            xs={[]}
            series={[]}
            windows={windows}
            range={range}
            lanes={lanes}
            testId="chart-breakers"
          />
        ) : (
          <Panel title="Circuit breakers">
            <EmptyState>{p.report || !p.live ? 'No breaker observed in this run.' : 'Breaker lanes appear with the first metric scrape.'}</EmptyState>
          </Panel>
        )}
      </div>
    </>
  );
}

/** The report's breaker timelines; before the report, the live ones from the samples (polled every 3 s while live). */
function useBreakerTimelines(runId: string, report: TReport | null, live: boolean): TTimeline[] | null {
  const [liveTl, setLiveTl] = useState<TTimeline[] | null>(null);
  const fromReport = report?.breakers.timelines ?? null;
  useEffect(() => {
    if (fromReport) return;
    let stop = false;
    const tick = () =>
      api<{ timelines: TTimeline[] }>(`/api/runs/${runId}/breakers`)
        .then((r) => !stop && setLiveTl(r.timelines))
        .catch(() => undefined /* lanes stay as they were; the next tick retries */);
    tick();
    if (!live) return;
    const h = setInterval(tick, 3000);
    return () => {
      stop = true;
      clearInterval(h);
    };
  }, [runId, fromReport, live]);
  return fromReport ?? liveTl;
}
