'use client';
/**
 * A split load's segments (`load.segments: N`): the merged total and each
 * segment's share on the run's shared x range, achieved against scheduled,
 * with each segment's state (queued, taken, ready, running, done, failed and
 * why) and the worker that took it. Unsplit runs have none of this.
 */
import { useMemo } from 'react';
import { TimeChart, type TSeries, type TWindow } from '../../../_components/chart.js';
import { segmentsOf, type TSegmentView } from './run-model.js';
import type { TStoredRunEvent } from '../../../../workers/index.js';

const SEG_COLORS = ['#8ab8ff', '#ff9830', '#b877d9', '#fade2a', '#5794f2', '#ff7383', '#c8f2c2', '#f2cc0c'];
const STATE_BADGE: Record<TSegmentView['state'], string> = {
  queued: 'b-dim',
  taken: 'b-dim',
  ready: 'b-run',
  running: 'b-run',
  done: 'b-ok',
  failed: 'b-bad',
};

export function SegmentCharts(p: { events: readonly TStoredRunEvent[]; windows: TWindow[]; range: [number, number] }) {
  const data = useMemo(() => segmentsOf(p.events), [p.events]);
  const total = useMemo<TSeries[]>(
    () =>
      data
        ? [
            { label: 'all segments', color: '#73bf69', values: data.rps, width: 2 },
            { label: 'scheduled', color: '#5f636b', values: data.target, dash: [4, 4] },
            ...data.segments.map((s) => ({ label: `${s.index + 1}/${data.segments.length}`, color: colorOf(s.index), values: s.rps })),
          ]
        : [],
    [data],
  );
  const perSegment = useMemo<TSeries[][]>(
    () =>
      data?.segments.map((s) => [
        { label: 'achieved', color: colorOf(s.index), values: s.rps, width: 1.5 },
        { label: 'scheduled', color: '#5f636b', values: s.target, dash: [4, 4] },
      ]) ?? [],
    [data],
  );
  if (!data) return null;
  const n = data.segments.length;
  return (
    <div className="stack" data-testid="load-segments" data-segments={n}>
      <TimeChart
        title={`Load segments: ${n} generators (iterations/s)`}
        note={<span className="dim">{summary(data.segments)}</span>}
        xs={data.xs}
        series={total}
        windows={p.windows}
        range={p.range}
        height={170}
        testId="chart-segments-total"
      />
      <div className={n === 2 ? 'grid2' : 'grid3'}>
        {data.segments.map((s, i) => (
          <div key={s.index} data-testid="segment" data-index={s.index} data-state={s.state}>
            <TimeChart
              title={`Segment ${s.index + 1}/${n}`}
              note={<SegmentState s={s} />}
              footer={
                s.reason && (
                  <div className="tone-bad" data-testid="segment-reason" title={s.reason}>
                    {withoutName(s.reason)}
                  </div>
                )
              }
              xs={data.xs}
              series={perSegment[i]}
              windows={p.windows}
              range={p.range}
              height={130}
            />
          </div>
        ))}
      </div>
    </div>
  );
}

function SegmentState({ s }: { s: TSegmentView }) {
  return (
    <span className="dim">
      <span className={`badge ${STATE_BADGE[s.state]}`} data-testid="segment-state">
        {s.state}
      </span>{' '}
      {s.worker ? <span className="mono">{s.worker}</span> : 'no worker yet'}
      {s.seconds ? ` · ${s.seconds} s` : ''}
    </span>
  );
}

function summary(segments: readonly TSegmentView[]): string {
  const by = new Map<string, number>();
  for (const s of segments) by.set(s.state, (by.get(s.state) ?? 0) + 1);
  return [...by].map(([state, k]) => `${k} ${state}`).join(' · ');
}

/** The title names the segment already: "load segment 3/3 (execution segment 2/3:1) lost its worker …" → "lost its worker …". */
function withoutName(reason: string): string {
  return reason.replace(/^load segment \d+\/\d+ \(execution segment [^)]*\) /, '');
}

function colorOf(i: number): string {
  return SEG_COLORS[i % SEG_COLORS.length];
}
