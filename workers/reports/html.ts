/**
 * report.html: one self-contained page (no network: uPlot's script and CSS
 * are inlined from node_modules). Four charts share one time axis (seconds
 * from load start) and a synced cursor, with fault windows shaded on each:
 *
 *   latency   corrected p50/p95/p99 (solid) vs k6-style (dashed)
 *   load      throughput, scheduled rate, dropped arrivals
 *   errors    per second, stacked by kind
 *   breakers  one lane per breaker × instance: closed / half-open / open
 *
 * followed by the SLO, breaker, fault and violation tables.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { clock, counts, dur, figure, iso, newViolations, num, pct, preExistingCount, settleText, sloTarget } from './format.js';
import type { TReport, TViolation } from './schema.js';

const require = createRequire(import.meta.url);

let uplotAssets: { js: string; css: string } | undefined;
function uplot(): { js: string; css: string } {
  if (!uplotAssets) {
    const dir = path.dirname(require.resolve('uplot/dist/uPlot.iife.min.js'));
    uplotAssets = {
      js: readFileSync(path.join(dir, 'uPlot.iife.min.js'), 'utf8'),
      css: readFileSync(path.join(dir, 'uPlot.min.css'), 'utf8'),
    };
  }
  return uplotAssets;
}

export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** JSON that is safe inside a <script> element. */
function scriptJson(v: unknown): string {
  return JSON.stringify(v)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

const ms = (v: number) => (v < 1000 ? `${Math.round(v)} ms` : `${(v / 1000).toFixed(1)} s`);
const per = (v: number) => `${Math.round(v * 10) / 10}/s`;

/** `min 12 ms · max 5.5 s · last 40 ms`: what a legend shows while the cursor is off the chart. */
export function seriesStats(xs: readonly number[], fmt: (v: number) => string): string {
  const v = xs.filter((x) => Number.isFinite(x));
  if (!v.length) return 'no data';
  return `min ${fmt(Math.min(...v))} · max ${fmt(Math.max(...v))} · last ${fmt(v[v.length - 1]!)}`;
}

/**
 * The chart data, relative to the load start (seconds). Pure. The x axis
 * spans the run: load start to the end of the load plus settling (or the
 * run's end), never less than the data.
 */
export function chartData(r: TReport) {
  const t0 = r.run.startedAt;
  const rel = (t: number) => Math.round((t - t0) / 100) / 10;
  const secs = r.series.seconds;
  const kinds = [...new Set(secs.flatMap((s) => Object.keys(s.errorsByKind)))].sort();
  const loadEnd = r.run.loadEndedAt;
  const settledAt = loadEnd !== undefined && r.settle ? loadEnd + r.settle.waitedMs : undefined;
  const lastSecond = secs.length ? secs[secs.length - 1]!.t + 1000 : t0;
  const end = Math.max(settledAt ?? r.run.endedAt, loadEnd ?? t0, lastSecond);
  const col = (k: keyof (typeof secs)[number]) => secs.map((s) => s[k] as number);
  return {
    xmax: rel(end),
    /** Vertical markers: end of load, end of settling. */
    marks: [
      ...(loadEnd !== undefined ? [{ name: 'load end', at: rel(loadEnd) }] : []),
      ...(settledAt !== undefined && r.settle ? [{ name: r.settle.settled ? 'settled' : 'settle gave up', at: rel(settledAt) }] : []),
    ],
    /** Legend text per series label while the cursor is off the chart. */
    legend: {
      latency: {
        'p50 corrected': seriesStats(col('cp50'), ms),
        'p95 corrected': seriesStats(col('cp95'), ms),
        'p99 corrected': seriesStats(col('cp99'), ms),
        'p50 k6-style': seriesStats(col('p50'), ms),
        'p95 k6-style': seriesStats(col('p95'), ms),
        'p99 k6-style': seriesStats(col('p99'), ms),
      },
      load: {
        throughput: seriesStats(col('rps'), per),
        scheduled: seriesStats(col('target'), per),
        dropped: `total ${col('dropped').reduce((a, b) => a + b, 0)} · ${seriesStats(col('dropped'), per)}`,
      },
      errors: Object.fromEntries(
        kinds.map((k) => {
          const xs = secs.map((s) => s.errorsByKind[k] ?? 0);
          return [k, `total ${xs.reduce((a, b) => a + b, 0)} · max ${per(Math.max(...xs))}`];
        }),
      ),
      x: secs.length ? `load ${rel(secs[0]!.t)}–${rel(loadEnd ?? lastSecond)} s, run to ${rel(end)} s` : '',
    },
    x: secs.map((s) => rel(s.t)),
    latency: {
      cp50: secs.map((s) => s.cp50),
      cp95: secs.map((s) => s.cp95),
      cp99: secs.map((s) => s.cp99),
      p50: secs.map((s) => s.p50),
      p95: secs.map((s) => s.p95),
      p99: secs.map((s) => s.p99),
    },
    load: { rps: secs.map((s) => s.rps), target: secs.map((s) => s.target), dropped: secs.map((s) => s.dropped) },
    errors: Object.fromEntries(kinds.map((k) => [k, secs.map((s) => s.errorsByKind[k] ?? 0)])),
    faults: r.faults.filter((f) => f.appliedAt !== null).map((f) => ({ name: f.name, from: rel(f.appliedAt!), to: rel(f.removedAt ?? r.run.endedAt) })),
    lanes: r.breakers.timelines.flatMap((tl) =>
      tl.instances.map((inst) => ({
        label: `${tl.breaker} · ${inst}`,
        segs: tl.segments.filter((s) => s.instance === inst).map((s) => [rel(s.from), rel(s.to), s.state] as const),
      })),
    ),
  };
}

const CSS = `
:root{--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--ok:#1a7f37;--bad:#cf222e;--warn:#9a6700;--bg:#fff;--soft:#f6f8fa}
*{box-sizing:border-box}body{margin:0;font:14px/1.45 -apple-system,BlinkMacSystemFont,"Segoe UI",Helvetica,Arial,sans-serif;color:var(--fg);background:var(--bg)}
main{max-width:1200px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 10px;border-bottom:1px solid var(--line);padding-bottom:6px}
.muted{color:var(--muted)}.badge{display:inline-block;padding:2px 10px;border-radius:12px;font-weight:600;color:#fff;font-size:13px;vertical-align:middle;margin-left:8px}
.passed{background:var(--ok)}.failed{background:var(--bad)}.aborted,.errored{background:var(--warn)}
.reason{background:#fff8c5;border:1px solid #d4a72c66;padding:8px 12px;border-radius:6px;margin:12px 0}
.cards{display:flex;gap:12px;flex-wrap:wrap;margin:16px 0}.card{border:1px solid var(--line);border-radius:8px;padding:10px 14px;min-width:150px;background:var(--soft)}
.card b{display:block;font-size:20px}.card span{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.04em}
table.t{border-collapse:collapse;width:100%;margin:6px 0 12px;font-size:13px}.t th,.t td{border:1px solid var(--line);padding:5px 8px;text-align:left;vertical-align:top}
.t th{background:var(--soft);font-weight:600}.t td.n{text-align:right;font-variant-numeric:tabular-nums}
.pass{color:var(--ok);font-weight:600}.fail{color:var(--bad);font-weight:600}
.chart{margin:4px 0 14px}.chart h3{font-size:13px;margin:0 0 2px;color:var(--muted);font-weight:600}
code{font:12px ui-monospace,SFMono-Regular,Menlo,monospace;background:var(--soft);padding:1px 4px;border-radius:4px}
details{margin:6px 0}summary{cursor:pointer}pre{background:var(--soft);padding:8px;border-radius:6px;overflow:auto;font-size:12px;max-height:260px}
.legend-note{font-size:12px;color:var(--muted)}
.card span+span{display:block;text-transform:none;letter-spacing:0}h3{font-size:15px;margin:18px 0 6px}
table.trail{margin:4px 0}table.trail td{border:0;border-bottom:1px solid var(--line);padding:2px 6px;font-size:12px}
.uplot{font-family:inherit}.u-legend{font-size:12px}
`;

const CLIENT_JS = `
(function(){
  const D = JSON.parse(document.getElementById('fl-data').textContent);
  const sync = uPlot.sync('fl');
  const W = () => Math.min(document.querySelector('main').clientWidth - 8, 1180);
  const AXIS = 64;
  const faultShade = (u) => {
    const ctx = u.ctx; ctx.save();
    ctx.textAlign = 'left'; ctx.textBaseline = 'alphabetic';
    for (const f of D.faults) {
      const x0 = u.valToPos(f.from, 'x', true), x1 = u.valToPos(f.to, 'x', true);
      ctx.fillStyle = 'rgba(207,34,46,0.09)';
      ctx.fillRect(x0, u.bbox.top, Math.max(1, x1 - x0), u.bbox.height);
      ctx.fillStyle = 'rgba(207,34,46,0.75)';
      ctx.font = (11 * devicePixelRatio) + 'px sans-serif';
      ctx.fillText(f.name, x0 + 4 * devicePixelRatio, u.bbox.top + 12 * devicePixelRatio);
    }
    ctx.restore();
  };
  // fault edges drawn over the series too, so they stay visible on the breaker lanes
  const faultEdges = (u) => {
    const ctx = u.ctx; ctx.save();
    ctx.strokeStyle = 'rgba(207,34,46,0.6)'; ctx.lineWidth = devicePixelRatio; ctx.setLineDash([4 * devicePixelRatio, 3 * devicePixelRatio]);
    for (const f of D.faults) for (const v of [f.from, f.to]) {
      const x = Math.round(u.valToPos(v, 'x', true)) + 0.5;
      ctx.beginPath(); ctx.moveTo(x, u.bbox.top); ctx.lineTo(x, u.bbox.top + u.bbox.height); ctx.stroke();
    }
    // end of load / end of settling: grey, labelled at the bottom
    ctx.strokeStyle = 'rgba(89,99,110,0.7)'; ctx.fillStyle = 'rgba(89,99,110,0.9)'; ctx.setLineDash([2 * devicePixelRatio, 2 * devicePixelRatio]);
    ctx.font = (10 * devicePixelRatio) + 'px sans-serif'; ctx.textAlign = 'right'; ctx.textBaseline = 'bottom';
    for (const m of D.marks) {
      const x = Math.round(u.valToPos(m.at, 'x', true)) + 0.5;
      ctx.beginPath(); ctx.moveTo(x, u.bbox.top); ctx.lineTo(x, u.bbox.top + u.bbox.height); ctx.stroke();
      ctx.fillText(m.name, x - 3 * devicePixelRatio, u.bbox.top + u.bbox.height - 2 * devicePixelRatio);
    }
    ctx.restore();
  };
  const fmtMs = (v) => v < 1000 ? Math.round(v) + ' ms' : (v / 1000).toFixed(1) + ' s';
  const fmtRate = (v) => (Math.round(v * 10) / 10) + '/s';
  // Off the chart the legend shows each series' min / max / last, never '--'.
  const withLegend = (chart, fmt) => (s) => Object.assign(s, { value: (u, v, si, di) => di == null || v == null ? (D.legend[chart][s.label] || '') : fmt(v) });
  const xAxis = { size: 34, values: (u, v) => v.map(s => s + 's') };
  const xSeries = { label: 't', value: (u, v) => v == null ? D.legend.x : v + 's' };
  const base = (title, h, yLabel) => ({
    width: W(), height: h,
    cursor: { sync: { key: sync.key }, drag: { x: true, y: false } },
    scales: { x: { time: false, range: [0, D.xmax] } },
    axes: [xAxis, { size: AXIS, label: yLabel, labelSize: 18 }],
    hooks: { drawClear: [faultShade], draw: [faultEdges] },
  });
  const el = (id) => document.getElementById(id);
  const L = D.latency;
  if (D.x.length) {
    new uPlot(Object.assign(base('latency', 240, 'ms'), { series: [xSeries].concat([
      { label: 'p50 corrected', stroke: '#0969da', width: 2 },
      { label: 'p95 corrected', stroke: '#8250df', width: 2 },
      { label: 'p99 corrected', stroke: '#cf222e', width: 2 },
      { label: 'p50 k6-style', stroke: '#0969da', dash: [5, 4] },
      { label: 'p95 k6-style', stroke: '#8250df', dash: [5, 4] },
      { label: 'p99 k6-style', stroke: '#cf222e', dash: [5, 4] },
    ].map(withLegend('latency', fmtMs))) }), [D.x, L.cp50, L.cp95, L.cp99, L.p50, L.p95, L.p99], el('c-latency'));
    new uPlot(Object.assign(base('load', 180, 'req/s'), { series: [xSeries].concat([
      { label: 'throughput', stroke: '#1a7f37', width: 2, fill: 'rgba(26,127,55,0.08)' },
      { label: 'scheduled', stroke: '#59636e', dash: [4, 4] },
      { label: 'dropped', stroke: '#9a6700', width: 1.5 },
    ].map(withLegend('load', fmtRate))) }), [D.x, D.load.rps, D.load.target, D.load.dropped], el('c-load'));
    const kinds = Object.keys(D.errors);
    const palette = ['#cf222e', '#bc4c00', '#9a6700', '#8250df', '#0969da', '#1b7c83', '#6e7781'];
    // stacked bars: draw cumulative sums, tallest first so each kind shows its band
    const cum = []; let acc = D.x.map(() => 0);
    for (const k of kinds) { acc = acc.map((a, i) => a + (D.errors[k][i] || 0)); cum.push(acc); }
    const order = kinds.map((k, i) => i).reverse();
    const bars = uPlot.paths.bars({ size: [0.7, 24] });
    const eo = base('errors', 160, 'errors/s');
    eo.series = [xSeries].concat(order.map(i => ({ label: kinds[i], fill: palette[i % palette.length], stroke: palette[i % palette.length], paths: bars, points: { show: false }, value: (u, v, si, di) => di == null ? D.legend.errors[kinds[i]] : String(D.errors[kinds[i]][di]) })));
    eo.scales.y = { range: (u, mn, mx) => [0, Math.max(1, mx)] };
    if (kinds.length) new uPlot(eo, [D.x].concat(order.map(i => cum[i])), el('c-errors'));
    else el('c-errors').innerHTML = '<p class="muted">no errors</p>';
  } else {
    el('c-latency').innerHTML = '<p class="muted">no per-second load data</p>';
  }
  if (D.lanes.length) {
    const colors = { closed: '#2da44e', 'half-open': '#d4a72c', open: '#cf222e' };
    const lanes = (u) => {
      const ctx = u.ctx; ctx.save();
      const n = D.lanes.length, h = u.bbox.height / n;
      D.lanes.forEach((lane, i) => {
        const y = u.bbox.top + i * h;
        for (const [a, b, st] of lane.segs) {
          const x0 = u.valToPos(Math.max(a, 0), 'x', true), x1 = u.valToPos(Math.min(b, D.xmax), 'x', true);
          ctx.fillStyle = colors[st]; ctx.fillRect(x0, y + h * 0.18, Math.max(1, x1 - x0), h * 0.64);
        }
        ctx.font = (11 * devicePixelRatio) + 'px sans-serif'; ctx.textAlign = 'left'; ctx.textBaseline = 'middle';
        const tw = ctx.measureText(lane.label).width, pad = 4 * devicePixelRatio;
        ctx.fillStyle = 'rgba(255,255,255,0.85)'; ctx.fillRect(u.bbox.left + pad, y + h * 0.5 - 8 * devicePixelRatio, tw + 2 * pad, 16 * devicePixelRatio);
        ctx.fillStyle = '#1f2328'; ctx.fillText(lane.label, u.bbox.left + 2 * pad, y + h * 0.5);
      });
      ctx.restore();
    };
    const bo = base('breakers', Math.max(70, 34 * D.lanes.length + 40), '');
    // same axis size and label slot as the other charts, so all plots share one x position
    bo.axes = [xAxis, { size: AXIS, label: '', labelSize: 18, values: () => [], ticks: { show: false }, grid: { show: false } }];
    bo.scales.y = { range: [0, 1] };
    bo.series = [xSeries, { label: 'state', stroke: 'transparent', value: () => '' }];
    bo.hooks = { drawClear: [faultShade], draw: [lanes, faultEdges] };
    bo.legend = { show: false };
    new uPlot(bo, [[0, D.xmax], [null, null]], el('c-breakers'));
  } else {
    el('c-breakers').innerHTML = '<p class="muted">no circuit breaker observed</p>';
  }
})();
`;

const tr = (cells: string[]) => `<tr>${cells.join('')}</tr>`;
const td = (s: string, cls = '') => `<td${cls ? ` class="${cls}"` : ''}>${s}</td>`;
const verdictCell = (ok: boolean) => td(ok ? 'pass' : 'fail', ok ? 'pass' : 'fail');

/** One row per SLO: its figure from each source, the run's error budget and the worst burn rates. */
function sloRows(r: TReport): string {
  return r.slos
    .map((s) => {
      const src = (k: 'client-corrected' | 'client-k6' | 'server') => {
        const f = figure(s, k);
        if (!f) return td('—');
        const title = f.note ? ` title="${esc(f.note)}"` : '';
        return `<td class="n"${title}>${pct(f.sli, 3)}<br><span class="muted">${f.good}/${f.valid}${f.note ? ' *' : ''}</span></td>`;
      };
      const d = figure(s, s.decidedBy);
      return tr([
        verdictCell(s.verdict === 'pass'),
        td(`<b>${esc(s.name)}</b><br><code>${esc(s.route)}</code>`),
        td(esc(sloTarget(s))),
        src('client-corrected'),
        src('client-k6'),
        src('server'),
        td(
          `${pct(d?.budgetConsumedPct, 0)}<br><span class="muted">${d && d.budgetConsumedPct !== null ? `${d.bad} bad of ${d.allowedBad.toFixed(1)} allowed` : ''}</span>`,
          'n',
        ),
        td(`${num(d?.worstBurn1m)} / ${num(d?.worstBurn5m)}`, 'n'),
      ]);
    })
    .join('');
}

function breakerRows(r: TReport): string {
  return r.breakers.expectations
    .map((b) =>
      tr([
        verdictCell(b.pass),
        td(`<code>${esc(b.breaker)}</code>`),
        td(esc(b.fault)),
        td(dur(b.timeToOpenMs), 'n'),
        td(`${dur(b.timeToCloseMs)} <span class="muted">(≤ ${dur(b.closesWithinMs)})</span>`, 'n'),
        td(esc(b.message)),
      ]),
    )
    .join('');
}

function timelineRows(r: TReport): string {
  return r.breakers.timelines
    .map((t) =>
      tr([
        td(`<code>${esc(t.breaker)}</code>`),
        td(esc(t.service)),
        td(String(t.instances.length), 'n'),
        td(
          `${t.trips.length}${t.trips.some((x) => x.from !== 'closed') ? ` <span class="muted">(${t.trips.filter((x) => x.from !== 'closed').length} failed probes)</span>` : ''}`,
          'n',
        ),
        td(String(t.unexpectedTrips), 'n'),
        td(t.flapping ? '<span class="fail">yes</span>' : 'no'),
        td(`${t.sources.metricSamples} samples, ${t.sources.logLines} log lines`),
      ]),
    )
    .join('');
}

function faultRows(r: TReport): string {
  return r.faults
    .map((f) =>
      tr([
        td(esc(f.name)),
        td(esc(f.type)),
        td(`<code>${esc(f.target)}</code>`),
        td(`at ${dur(f.plannedAtMs)} for ${dur(f.plannedDurationMs)}`),
        td(
          f.appliedAt === null
            ? '<span class="fail">never applied</span>'
            : `+${dur(f.appliedAt - r.run.startedAt)} → ${f.removedAt === null ? '<span class="fail">not confirmed removed</span>' : `+${dur(f.removedAt - r.run.startedAt)}`}`,
        ),
      ]),
    )
    .join('');
}

function invariantRows(r: TReport): string {
  return r.invariants
    .map((i) =>
      tr([
        verdictCell(i.pass),
        td(`<b>${esc(i.name)}</b><br><span class="muted">${esc(i.description)}</span>`),
        td(String(i.checked), 'n'),
        td(i.error ? `<span class="fail">error: ${esc(i.error)}</span>` : String(newViolations(i).length), 'n'),
        td(preExistingCount(i) ? String(preExistingCount(i)) : '', 'n'),
      ]),
    )
    .join('');
}

/** A violation's trail (what led to it), open when short. */
function trailCell(v: TViolation): string {
  const trail = v.trail ?? [];
  if (!trail.length) return '';
  const lines = trail.map((e) => `<tr><td class="n">${esc(clock(e.at))}</td><td><code>${esc(e.source)}</code></td><td>${esc(e.text)}</td></tr>`).join('');
  return `<details${trail.length <= 12 ? ' open' : ''}><summary>trail: ${trail.length} step(s)</summary><table class="t trail">${lines}</table></details>`;
}

/** The first 100 violations with their trail, rows and client events. */
function violationTable(vs: TViolation[]): string {
  return `<table class="t"><tr><th>kind</th><th>what</th><th>ids</th><th>trail and evidence</th></tr>${vs
    .slice(0, 100)
    .map((v) =>
      tr([
        td(`<code>${esc(v.kind)}</code>`),
        td(esc(v.message)),
        td(v.ids.map((x) => `<code>${esc(x)}</code>`).join(' ')),
        td(
          `${trailCell(v)}${v.rows.length ? `<details><summary>${v.rows.length} row(s)</summary><pre>${esc(JSON.stringify(v.rows, null, 1))}</pre></details>` : ''}${v.events.length ? `<details><summary>${v.events.length} client event(s)</summary><pre>${esc(JSON.stringify(v.events, null, 1))}</pre></details>` : ''}`,
        ),
      ]),
    )
    .join('')}</table>${vs.length > 100 ? `<p class="muted">… ${vs.length - 100} more in report.json</p>` : ''}`;
}

/** This run's violations, one block per invariant. */
function violationsHtml(r: TReport): string {
  return r.invariants
    .filter((i) => newViolations(i).length)
    .map((i) => `<details open><summary><b>${esc(i.name)}</b>: ${newViolations(i).length} violation(s)</summary>${violationTable(newViolations(i))}</details>`)
    .join('');
}

/** Findings from before the run, apart (they do not fail it). */
function preExistingHtml(r: TReport): string {
  const preExisting = r.invariants.filter((i) => preExistingCount(i) > 0);
  return preExisting.length
    ? `<h3>Pre-existing findings</h3><p class="muted">Already there before this run (consistency baseline${r.baseline ? ` of ${iso(r.baseline.capturedAt)}` : ''}) and not made worse by it: listed, not failing the run.</p>${preExisting
        .map((i) => {
          const listed = i.violations.filter((v) => v.preExisting);
          return `<details><summary><b>${esc(i.name)}</b>: ${preExistingCount(i)} pre-existing${listed.length < preExistingCount(i) ? ` (${listed.length} listed)` : ''}</summary>${violationTable(listed)}</details>`;
        })
        .join('')}`
    : '';
}

/** The summary cards under the title: passed / total per check, violations, settling, requests. */
function cardsHtml(r: TReport): string {
  const c = counts(r);
  return `<div class="cards">
<div class="card"><span>SLOs</span><b class="${c.slos[0] === c.slos[1] ? 'pass' : 'fail'}">${c.slos[0]} / ${c.slos[1]}</b></div>
<div class="card"><span>breaker expectations</span><b class="${c.breakers[0] === c.breakers[1] ? 'pass' : 'fail'}">${c.breakers[0]} / ${c.breakers[1]}</b></div>
<div class="card"><span>invariants</span><b class="${c.invariants[0] === c.invariants[1] ? 'pass' : 'fail'}">${c.invariants[0]} / ${c.invariants[1]}</b></div>
<div class="card"><span>violations</span><b class="${c.violations ? 'fail' : 'pass'}">${c.violations}</b>${c.preExisting ? `<span>+ ${c.preExisting} pre-existing</span>` : ''}</div>
${r.settle ? `<div class="card"><span>settling</span><b class="${r.settle.settled ? '' : 'fail'}">${r.settle.settled ? dur(r.settle.waitedMs) : 'not settled'}</b><span>max ${dur(r.settle.maxMs)}</span></div>` : ''}
<div class="card"><span>requests · dropped</span><b>${r.load.requests} · ${r.load.dropped}</b></div>
</div>`;
}

/** The consistency section: settling, the invariants table, violations and pre-existing findings, indeterminate operations. */
function consistencyHtml(r: TReport): string {
  const settleHtml = r.settle ? `<p class="${r.settle.settled ? '' : 'fail'}">Settling after the load: ${esc(settleText(r.settle))}</p>` : '';
  const recovered = r.infoOps.filter((o) => o.recovered).length;
  return `${settleHtml}
${r.invariants.length ? `<table class="t"><tr><th></th><th>invariant</th><th>checked</th><th>violations</th><th>pre-existing</th></tr>${invariantRows(r)}</table>${violationsHtml(r)}${preExistingHtml(r)}` : '<p class="muted">no invariants checked</p>'}
${r.infoOps.length ? `<p>Indeterminate operations (5xx or no answer: outcome unknown to the client): ${r.infoOps.length}, ${recovered} recovered (their effect exists), ${r.infoOps.length - recovered} not.</p>` : ''}`;
}

export function renderHtml(r: TReport): string {
  const { js, css } = uplot();
  const notes = r.slos.flatMap((s) => s.figures.filter((f) => f.note).map((f) => `<li><b>${esc(s.name)}</b> (${f.source}): ${esc(f.note!)}</li>`));

  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(r.run.experiment)} — ${r.verdict} — faultline</title>
<style>${css}</style><style>${CSS}</style></head>
<body><main>
<h1>${esc(r.run.experiment)}<span class="badge ${r.verdict}">${r.verdict}</span></h1>
<div class="muted">${esc(r.run.description)}</div>
<div class="muted">run <code>${esc(r.run.id)}</code> · ${iso(r.run.startedAt)} · ${dur(r.run.endedAt - r.run.startedAt)} · scenario <code>${esc(r.load.scenario)}</code> (${esc(r.load.engine)})${r.run.bugs.length ? ` · bug switches ${r.run.bugs.map((b) => `<code>${esc(b)}</code>`).join(' ')}` : ''}</div>
${r.reason ? `<div class="reason">${esc(r.reason)}</div>` : ''}
${cardsHtml(r)}
<h2>Timeline</h2>
<p class="legend-note">Seconds from load start to the end of the load and settling; fault windows shaded red; legends show min / max / last of each series (the value under the cursor when hovering). Corrected latency counts from each request's scheduled start (open model), k6-style from when it was sent.</p>
<div class="chart"><h3>Latency (ms)</h3><div id="c-latency"></div></div>
<div class="chart"><h3>Throughput</h3><div id="c-load"></div></div>
<div class="chart"><h3>Errors by kind</h3><div id="c-errors"></div></div>
<div class="chart"><h3>Circuit breakers <span class="muted">— <span style="color:#2da44e">■</span> closed <span style="color:#d4a72c">■</span> half-open <span style="color:#cf222e">■</span> open</span></h3><div id="c-breakers"></div></div>
<h2>Faults</h2>
${r.faults.length ? `<table class="t"><tr><th>fault</th><th>type</th><th>target</th><th>planned</th><th>applied → removed</th></tr>${faultRows(r)}</table>` : '<p class="muted">no faults</p>'}
<h2>SLOs</h2>
<table class="t"><tr><th></th><th>SLO</th><th>target</th><th>client (corrected)</th><th>client (k6-style)</th><th>server</th><th>run budget used</th><th>worst burn 1m / 5m</th></tr>${sloRows(r)}</table>
${notes.length ? `<ul class="legend-note">${notes.join('')}</ul>` : ''}
<h2>Circuit breakers</h2>
${r.breakers.expectations.length ? `<table class="t"><tr><th></th><th>breaker</th><th>during fault</th><th>time to open</th><th>time to close</th><th>detail</th></tr>${breakerRows(r)}</table>` : ''}
${r.breakers.timelines.length ? `<table class="t"><tr><th>breaker</th><th>service</th><th>instances</th><th>trips</th><th>outside faults</th><th>flapping</th><th>observed from</th></tr>${timelineRows(r)}</table>` : '<p class="muted">no breaker observed</p>'}
<h2>Consistency</h2>
${consistencyHtml(r)}
<p class="muted">faultline report schema v${r.schemaVersion} · generated ${iso(r.generatedAt)}</p>
</main>
<script id="fl-data" type="application/json">${scriptJson(chartData(r))}</script>
<script>${js}</script>
<script>${CLIENT_JS}</script>
</body></html>
`;
}
