'use client';
/**
 * Dense time-series panels on uPlot. Every chart of a run shares the x range
 * and cursor (sync key), and shades the fault windows, so a latency spike,
 * an error burst and a breaker opening line up under the fault that caused them.
 */
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';

export interface TWindow {
  name: string;
  from: number; // epoch ms
  to: number;
}

export interface TSeries {
  label: string;
  color: string;
  values: (number | null)[];
  dash?: number[];
  width?: number;
}

export interface TLane {
  label: string;
  segments: { from: number; to: number; state: 'closed' | 'open' | 'half-open' }[];
}

const SYNC = 'faultline-run';
const AXIS = { stroke: '#8e9199', grid: { stroke: '#24272d', width: 1 }, ticks: { stroke: '#24272d', width: 1 }, font: '11px sans-serif', size: 56 };
const LANE_COLOR = { closed: 'rgba(115,191,105,.55)', open: 'rgba(242,73,92,.85)', 'half-open': 'rgba(250,222,42,.75)' };

function shadeFaults(windows: TWindow[]): uPlot.Plugin {
  return {
    hooks: {
      drawClear: (u) => {
        const ctx = u.ctx;
        ctx.save();
        for (const w of windows) {
          const x0 = u.valToPos(w.from / 1000, 'x', true);
          const x1 = u.valToPos(w.to / 1000, 'x', true);
          ctx.fillStyle = 'rgba(255,152,48,.12)';
          ctx.fillRect(x0, u.bbox.top, Math.max(1, x1 - x0), u.bbox.height);
          ctx.strokeStyle = 'rgba(255,152,48,.6)';
          ctx.setLineDash([3, 3]);
          ctx.beginPath();
          ctx.moveTo(x0, u.bbox.top);
          ctx.lineTo(x0, u.bbox.top + u.bbox.height);
          ctx.moveTo(x1, u.bbox.top);
          ctx.lineTo(x1, u.bbox.top + u.bbox.height);
          ctx.stroke();
          ctx.setLineDash([]);
          ctx.fillStyle = '#ff9830';
          ctx.font = `${10 * devicePixelRatio}px sans-serif`;
          ctx.fillText(w.name, x0 + 4, u.bbox.top + 12 * devicePixelRatio);
        }
        ctx.restore();
      },
    },
  };
}

function drawLanes(lanes: TLane[]): uPlot.Plugin {
  return {
    hooks: {
      draw: (u) => {
        const ctx = u.ctx;
        ctx.save();
        // a state that began before the chart's range must not paint over the lane labels
        const { left, top, width, height } = u.bbox;
        ctx.beginPath();
        ctx.rect(left, top, width, height);
        ctx.clip();
        lanes.forEach((l, i) => {
          const yTop = u.valToPos(lanes.length - i, 'y', true);
          const yBot = u.valToPos(lanes.length - i - 1, 'y', true);
          const h = Math.max(2, (yBot - yTop) * 0.7);
          for (const s of l.segments) {
            const x0 = u.valToPos(s.from / 1000, 'x', true);
            const x1 = u.valToPos(s.to / 1000, 'x', true);
            ctx.fillStyle = LANE_COLOR[s.state];
            ctx.fillRect(x0, yTop + (yBot - yTop - h) / 2, Math.max(1, x1 - x0), h);
          }
        });
        ctx.restore();
      },
    },
  };
}

export function TimeChart(props: {
  title: string;
  /** Epoch ms of each point. */
  xs: number[];
  series: TSeries[];
  windows: TWindow[];
  /** x range (epoch ms) shared by all charts of the page. */
  range: [number, number];
  unit?: string;
  height?: number;
  lanes?: TLane[];
  testId?: string;
  /** Beside the title (a state badge, the unit); as Panel's note. */
  note?: React.ReactNode;
  /** Under the chart (a failure's reason). */
  footer?: React.ReactNode;
}) {
  const el = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const { xs, series, windows, range, unit, lanes, title } = props;
  const height = props.height ?? (lanes ? Math.max(60, 22 * lanes.length + 30) : 190);
  useEffect(() => {
    if (!el.current) return;
    const width = el.current.clientWidth || 600;
    const laneMode = !!lanes;
    const data: uPlot.AlignedData = laneMode
      ? [
          [range[0] / 1000, range[1] / 1000],
          [null, null],
        ]
      : [xs.map((x) => x / 1000), ...series.map((s) => s.values)];
    const opts: uPlot.Options = {
      width,
      height,
      cursor: { sync: { key: SYNC }, drag: { x: false, y: false } },
      legend: { show: !laneMode },
      scales: {
        x: { time: true, range: () => [range[0] / 1000, range[1] / 1000] },
        y: laneMode ? { range: () => [0, lanes!.length] } : { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] },
      },
      axes: [
        { ...AXIS, size: 30 },
        laneMode
          ? { ...AXIS, size: 140, splits: () => lanes!.map((_, i) => lanes!.length - i - 0.5), values: () => lanes!.map((l) => l.label), grid: { show: false } }
          : { ...AXIS, values: (_u, v) => v.map((x) => `${+x.toFixed(2)}${unit ?? ''}`) },
      ],
      series: laneMode
        ? [{}, { show: false }]
        : [{}, ...series.map((s) => ({ label: s.label, stroke: s.color, width: s.width ?? 1.25, dash: s.dash, points: { show: false }, spanGaps: false }))],
      plugins: [shadeFaults(windows), ...(laneMode ? [drawLanes(lanes!)] : [])],
    };
    plot.current?.destroy();
    plot.current = new uPlot(opts, data, el.current);
    const ro = new ResizeObserver(() => {
      if (el.current && plot.current) plot.current.setSize({ width: el.current.clientWidth, height });
    });
    ro.observe(el.current);
    return () => {
      ro.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
  }, [xs, series, windows, range, unit, lanes, height]);
  return (
    <div className="panel" data-testid={props.testId}>
      <header>
        <h2>{title}</h2>
        {props.note}
      </header>
      <div ref={el} className="chart" style={{ minHeight: height }} />
      {props.footer}
    </div>
  );
}
