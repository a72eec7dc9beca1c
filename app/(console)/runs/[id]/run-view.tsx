'use client';
/**
 * One run, live or finished. Live: Server-Sent Events from
 * /api/runs/<id>/events (stored events first, then live ones) drive the
 * phase, progress and charts; at the verdict the report is fetched and the
 * charts switch to its full series. No page reload at any point.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { api, ApiError } from '../../../_components/api.js';
import { TimeChart, type TLane, type TSeries, type TWindow } from '../../../_components/chart.js';
import { Empty, ErrorBox, Loading } from '../../../_components/states.js';
import { dur, stamp, verdictClass } from '../../../_components/format.js';
import type { TRunView } from '../../../_lib/runs.js';

type TReport = NonNullable<TRunView['report']>;
type TSecond = TReport['series']['seconds'][number];
interface TEvent {
  seq: number;
  t: number;
  type: string;
  [k: string]: unknown;
}

const PHASES = ['queued', 'steady_state', 'running', 'recovering', 'analysing'] as const;
const PHASE_LABEL: Record<string, string> = { queued: 'queued', steady_state: 'steady state', running: 'load + faults', recovering: 'recovery', analysing: 'analysis' };
const TERMINAL = ['passed', 'failed', 'aborted', 'errored'];
const ERR_COLORS = ['#f2495c', '#ff9830', '#fade2a', '#b877d9', '#8ab8ff', '#ff7383', '#c8f2c2'];

function fmtPct(v: number | null | undefined, d = 2) {
  return v === null || v === undefined ? '—' : `${v.toFixed(d)}%`;
}
function fmtNum(v: number | null | undefined, d = 1) {
  return v === null || v === undefined ? '—' : v.toFixed(d);
}

export function RunView({ initial, canOperate }: { initial: TRunView; canOperate: boolean }) {
  const id = initial.run.id;
  const [view, setView] = useState(initial);
  const [events, setEvents] = useState<TEvent[]>([]);
  const [streamState, setStreamState] = useState<'connecting' | 'live' | 'ended' | 'error'>('connecting');
  const [now, setNow] = useState(Date.now());
  const [err, setErr] = useState<ApiError | null>(null);
  const state = view.run.state;
  const terminal = TERMINAL.includes(state);

  const refresh = useCallback(async () => {
    try {
      setView(await api<TRunView>(`/api/runs/${id}`));
    } catch (e) {
      setErr(e as ApiError);
    }
  }, [id]);

  useEffect(() => {
    const es = new EventSource(`/api/runs/${id}/events?after=0`);
    es.onopen = () => setStreamState('live');
    es.addEventListener('run', (m) => {
      const e = JSON.parse((m as MessageEvent).data) as TEvent;
      setEvents((prev) => (prev.length && prev[prev.length - 1].seq >= e.seq ? prev : [...prev, e]));
      if (e.type === 'phase' || e.type === 'verdict') {
        // Keep the row's phase timestamps current too: progress is measured from `runningAt`.
        const at = new Date(e.t).toISOString();
        setView((v) => ({
          ...v,
          run: {
            ...v.run,
            state: (e.type === 'phase' ? e.phase : e.verdict) as typeof v.run.state,
            ...(e.type === 'phase' && e.phase === 'running' && !v.run.runningAt ? { runningAt: at as unknown as Date } : {}),
            ...(e.type === 'verdict' && !v.run.endedAt ? { endedAt: at as unknown as Date } : {}),
          },
        }));
      }
      if (e.type === 'verdict') {
        // The report row is written right after the verdict event: fetch now and once more shortly after.
        void refresh();
        setTimeout(() => void refresh(), 2500);
      }
    });
    es.addEventListener('end', () => {
      setStreamState('ended');
      es.close();
      void refresh();
    });
    es.onerror = () => {
      // EventSource reconnects by itself (Last-Event-ID); after the verdict the server closes on purpose.
      setStreamState((s) => (s === 'ended' ? s : 'error'));
    };
    return () => es.close();
  }, [id, refresh]);

  useEffect(() => {
    if (terminal) return;
    const h = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(h);
  }, [terminal]);

  // A finished run whose report is not written yet: poll a few times.
  const polls = useRef(0);
  useEffect(() => {
    if (!terminal || view.report || polls.current > 10) return;
    const h = setTimeout(() => {
      polls.current++;
      void refresh();
    }, 2000);
    return () => clearTimeout(h);
  }, [terminal, view.report, refresh]);

  const report = view.report;
  const liveSeconds = useMemo(
    () =>
      events
        .filter((e) => e.type === 'load.second')
        .map((e) => {
          const s = e.second as Omit<TSecond, 'cp50' | 'cp95'> & { cp50?: number; cp95?: number };
          return { ...s, cp50: s.cp50 ?? NaN, cp95: s.cp95 ?? NaN } as TSecond;
        }),
    [events],
  );
  const seconds: TSecond[] = report?.series.seconds.length ? report.series.seconds : liveSeconds;
  const windows: TWindow[] = useMemo(() => {
    if (report?.faults.length) return report.faults.filter((f) => f.appliedAt).map((f) => ({ name: f.name, from: f.appliedAt!, to: f.removedAt ?? f.appliedAt! + f.plannedDurationMs }));
    const open = new Map<string, number>();
    const out: TWindow[] = [];
    for (const e of events) {
      if (e.type === 'fault.applied') open.set(String(e.name), e.t);
      if (e.type === 'fault.removed' && open.has(String(e.name))) {
        out.push({ name: String(e.name), from: open.get(String(e.name))!, to: e.t });
        open.delete(String(e.name));
      }
    }
    for (const [name, from] of open) out.push({ name, from, to: now });
    return out;
  }, [report, events, now]);

  const range = useMemo<[number, number]>(() => {
    const ts = [...seconds.map((s) => s.t), ...windows.flatMap((w) => [w.from, w.to])];
    if (!ts.length) return [now - 60_000, now];
    const lo = Math.min(...ts);
    // A live run's first seconds get a 30 s axis to grow into, not a sub-second zoom.
    return [lo, Math.max(Math.max(...ts) + 1000, lo + 30_000)];
  }, [seconds, windows, now]);

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
  const errorKinds = useMemo(() => [...new Set(seconds.flatMap((s) => Object.keys(s.errorsByKind)))].sort(), [seconds]);
  const errors = useMemo<TSeries[]>(
    () => errorKinds.map((k, i) => ({ label: k, color: ERR_COLORS[i % ERR_COLORS.length], values: seconds.map((s) => s.errorsByKind[k] ?? 0) })),
    [errorKinds, seconds],
  );
  const lanes = useMemo<TLane[]>(() => {
    const out: TLane[] = [];
    for (const tl of report?.breakers.timelines ?? [])
      for (const inst of tl.instances) out.push({ label: `${tl.breaker} ${inst.replace(/^.*-(\d+)$/, '#$1')}`, segments: tl.segments.filter((s) => s.instance === inst) });
    return out;
  }, [report]);

  const phaseIdx = PHASES.indexOf(state as (typeof PHASES)[number]);
  const startedAt = view.run.runningAt ? Date.parse(String(view.run.runningAt)) : null;
  const def = view.run.definition as { load?: { duration?: number }; quiescence?: number; faults?: { at: number; duration: number }[] };
  const loadMs = def.load?.duration ?? Math.max(0, ...(def.faults ?? []).map((f) => f.at + f.duration));
  const expected = loadMs + (def.quiescence ?? 0);
  const elapsed = startedAt ? (terminal && view.run.endedAt ? Date.parse(String(view.run.endedAt)) : now) - startedAt : 0;
  // Without a load duration in the experiment (the scenario decides) progress is phase-based.
  const progress = terminal ? 100 : def.load?.duration && expected > 0 ? Math.min(99, (elapsed / expected) * 100) : ((Math.max(0, phaseIdx) + 0.5) / (PHASES.length + 1)) * 100;
  const lastNote = [...events].reverse().find((e) => e.type === 'note' || e.type === 'abort' || e.type === 'fault.failed');

  return (
    <>
      <div className="row">
        <h1>{view.run.experimentName}</h1>
        <span className={`badge ${verdictClass(state)}`} data-testid="run-state">
          {state}
        </span>
        <span className="mono dim">{id}</span>
        <span className="spacer" />
        <span className="dim" data-testid="stream-state">
          {streamState === 'live' && !terminal ? '● live' : streamState === 'error' && !terminal ? 'reconnecting…' : ''}
        </span>
        {canOperate && !terminal && (
          <button
            className="danger"
            onClick={() => api(`/api/runs/${id}/abort`, { method: 'POST' }).catch((e) => setErr(e as ApiError))}
          >
            Abort run
          </button>
        )}
      </div>
      <ErrorBox error={err} />
      <section className="panel">
        <div className="phases" data-testid="phases">
          {PHASES.map((p, i) => (
            <span key={p} className={terminal || i < phaseIdx ? 'done' : i === phaseIdx ? 'now' : ''}>
              {PHASE_LABEL[p]}
            </span>
          ))}
          <span className={terminal ? 'now' : ''}>{terminal ? state : 'verdict'}</span>
        </div>
        <div className="progress" style={{ marginTop: 6 }}>
          <div style={{ width: `${progress}%`, background: terminal ? (state === 'passed' ? 'var(--ok)' : 'var(--bad)') : undefined }} />
        </div>
        <div className="row" style={{ marginTop: 6 }}>
          <span className="muted">
            trigger {view.run.trigger} · created {stamp(String(view.run.createdAt))}
            {startedAt ? ` · ${dur(elapsed)}${def.load?.duration ? ` of ~${dur(expected)}` : ''}` : ''}
          </span>
          <span className="spacer" />
          {lastNote && !terminal && <span className="muted">{String(lastNote.msg ?? lastNote.reason ?? lastNote.error ?? '')}</span>}
        </div>
        {(view.run.reason || report?.reason) && terminal && (
          <div style={{ marginTop: 6 }} className={state === 'passed' ? 'muted' : ''} data-testid="run-reason">
            {report?.reason ?? view.run.reason}
          </div>
        )}
      </section>

      {seconds.length === 0 && !terminal ? (
        <section className="panel">
          <Loading what={state === 'queued' ? 'run (waiting for a worker / the target)' : 'load figures (charts appear with the first second of load)'} />
        </section>
      ) : seconds.length === 0 ? (
        <section className="panel">
          <Empty>This run produced no load figures{view.run.reason ? `: ${view.run.reason}` : ''}.</Empty>
        </section>
      ) : (
        <>
          <div className="grid2">
            <TimeChart title="Throughput (req/s)" xs={xs} series={throughput} windows={windows} range={range} testId="chart-throughput" />
            <TimeChart title="Latency: k6-style vs corrected for coordinated omission (ms)" xs={xs} series={latency} windows={windows} range={range} unit="" testId="chart-latency" />
          </div>
          <div className="grid2">
            {errors.length ? (
              <TimeChart title="Errors by kind (per second)" xs={xs} series={errors} windows={windows} range={range} testId="chart-errors" />
            ) : (
              <section className="panel">
                <header>
                  <h2>Errors by kind</h2>
                </header>
                <Empty>No failed request.</Empty>
              </section>
            )}
            {lanes.length ? (
              <TimeChart title="Circuit breakers (closed · open · half-open)" xs={[]} series={[]} windows={windows} range={range} lanes={lanes} testId="chart-breakers" />
            ) : (
              <section className="panel">
                <header>
                  <h2>Circuit breakers</h2>
                </header>
                <Empty>{report ? 'No breaker observed in this run.' : 'Breaker state lanes appear with the analysis.'}</Empty>
              </section>
            )}
          </div>
        </>
      )}

      <Results view={view} terminal={terminal} />
      <Logs runId={id} live={!terminal} />
    </>
  );
}

function Results({ view, terminal }: { view: TRunView; terminal: boolean }) {
  const r = view.report;
  if (!r)
    return (
      <section className="panel">
        <header>
          <h2>Verdict</h2>
        </header>
        {view.reportError ? <ErrorBox error={`report unreadable: ${view.reportError}`} /> : terminal ? <Loading what="report" /> : <Empty>SLOs, breaker expectations and consistency checks are judged after recovery.</Empty>}
        {view.violations.length > 0 && <ViolationRows rows={view.violations} />}
      </section>
    );
  return (
    <>
      <section className="panel" data-testid="slo-table">
        <header>
          <h2>SLOs</h2>
          <span className="dim">budget consumed of the SLO period; burn rate = multiples of the sustainable rate</span>
          <Downloads runId={view.run.id} />
        </header>
        {r.slos.length === 0 ? (
          <Empty>No SLO.</Empty>
        ) : (
          <table className="t">
            <thead>
              <tr>
                <th>SLO</th>
                <th>Route</th>
                <th>Objective</th>
                <th>Verdict</th>
                <th className="num">SLI</th>
                <th className="num">Budget consumed</th>
                <th className="num">Worst burn 1m</th>
                <th className="num">Worst burn 5m</th>
                <th>Decided by</th>
                <th>Other sources</th>
              </tr>
            </thead>
            <tbody>
              {r.slos.map((s) => {
                const f = s.figures.find((x) => x.source === s.decidedBy);
                return (
                  <tr key={s.name}>
                    <td>{s.name}</td>
                    <td className="mono">{s.route}</td>
                    <td>
                      {s.objective}% {s.sli === 'latency' ? `< ${s.thresholdMs} ms` : 'available'}
                    </td>
                    <td>
                      <span className={`badge ${s.verdict === 'pass' ? 'b-ok' : 'b-bad'}`}>{s.verdict}</span>
                    </td>
                    <td className="num">{fmtPct(f?.sli, 3)}</td>
                    <td className="num" style={{ color: (f?.budgetConsumedPct ?? 0) >= 100 ? 'var(--bad)' : undefined }}>
                      {fmtPct(f?.budgetConsumedPct, 3)}
                    </td>
                    <td className="num">{fmtNum(f?.worstBurn1m)}×</td>
                    <td className="num">{fmtNum(f?.worstBurn5m)}×</td>
                    <td className="muted">{s.decidedBy}</td>
                    <td className="muted">
                      {s.figures
                        .filter((x) => x.source !== s.decidedBy)
                        .map((x) => `${x.source} ${fmtPct(x.sli, 2)}`)
                        .join(' · ')}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
      </section>
      <div className="grid2">
        <section className="panel" data-testid="breaker-expectations">
          <header>
            <h2>Breaker expectations</h2>
          </header>
          {r.breakers.expectations.length === 0 ? (
            <Empty>No breaker expectation in this experiment.</Empty>
          ) : (
            <table className="t">
              <thead>
                <tr>
                  <th>Breaker</th>
                  <th>During</th>
                  <th>Result</th>
                  <th className="num">Opened after</th>
                  <th className="num">Closed after</th>
                </tr>
              </thead>
              <tbody>
                {r.breakers.expectations.map((b, i) => (
                  <tr key={i} title={b.message}>
                    <td className="mono">{b.breaker}</td>
                    <td>{b.fault}</td>
                    <td>
                      <span className={`badge ${b.pass ? 'b-ok' : 'b-bad'}`}>{b.pass ? 'pass' : 'fail'}</span> <span className="muted">{b.message}</span>
                    </td>
                    <td className="num">
                      {dur(b.timeToOpenMs)} <span className="dim">/ {dur(b.opensWithinMs)}</span>
                    </td>
                    <td className="num">
                      {dur(b.timeToCloseMs)} <span className="dim">/ {dur(b.closesWithinMs)}</span>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {r.breakers.timelines.some((t) => t.flapping || t.unexpectedTrips) && (
            <div style={{ marginTop: 8, color: 'var(--warn)' }}>
              {r.breakers.timelines
                .filter((t) => t.flapping || t.unexpectedTrips)
                .map((t) => `${t.breaker}: ${t.unexpectedTrips} trip(s) outside fault windows${t.flapping ? ', flapping' : ''}`)
                .join(' · ')}
            </div>
          )}
        </section>
        <section className="panel">
          <header>
            <h2>Load</h2>
          </header>
          <table className="t">
            <tbody>
              <tr>
                <td className="muted">scenario / engine</td>
                <td>
                  {r.load.scenario} · {r.load.engine}
                </td>
              </tr>
              <tr>
                <td className="muted">requests</td>
                <td>{r.load.requests}</td>
              </tr>
              <tr>
                <td className="muted">dropped arrivals</td>
                <td style={{ color: r.load.dropped ? 'var(--warn)' : undefined }}>{r.load.dropped}</td>
              </tr>
              <tr>
                <td className="muted">bug switches</td>
                <td>{r.run.bugs.length ? r.run.bugs.join(', ') : 'none'}</td>
              </tr>
              {r.faults.map((f) => (
                <tr key={f.name}>
                  <td className="muted">fault {f.name}</td>
                  <td>
                    {f.type} on <span className="mono">{f.target}</span> · {f.appliedAt ? stamp(new Date(f.appliedAt)) : 'never applied'} → {f.removedAt ? stamp(new Date(f.removedAt)) : 'not confirmed removed'}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      </div>
      <section className="panel" data-testid="consistency">
        <header>
          <h2>Consistency after quiescence</h2>
          <span className="dim">
            {r.invariants.filter((i) => i.pass).length}/{r.invariants.length} invariants hold
          </span>
        </header>
        {r.invariants.length === 0 ? (
          <Empty>No invariant checked.</Empty>
        ) : (
          <table className="t">
            <thead>
              <tr>
                <th>Invariant</th>
                <th>Result</th>
                <th className="num">Checked</th>
                <th>Violations and evidence</th>
              </tr>
            </thead>
            <tbody>
              {r.invariants.map((inv) => (
                <tr key={inv.name} data-invariant={inv.name}>
                  <td>
                    {inv.name}
                    <div className="dim">{inv.description}</div>
                  </td>
                  <td>
                    <span className={`badge ${inv.pass ? 'b-ok' : 'b-bad'}`}>{inv.pass ? 'holds' : 'violated'}</span>
                  </td>
                  <td className="num">{inv.checked}</td>
                  <td>
                    {inv.error && <div style={{ color: 'var(--bad)' }}>check failed: {inv.error}</div>}
                    {inv.violations.slice(0, 5).map((v, k) => (
                      <details key={k} className="violation" open={k === 0}>
                        <summary>
                          <span className="badge b-bad">{v.kind}</span> {v.message} <span className="mono dim">{v.ids.join(', ')}</span>
                        </summary>
                        {v.rows.length > 0 && <pre className="evidence">{JSON.stringify(v.rows, null, 1)}</pre>}
                        {v.events.length > 0 && <pre className="evidence">{JSON.stringify(v.events, null, 1)}</pre>}
                      </details>
                    ))}
                    {inv.violations.length > 5 && <div className="dim">… {inv.violations.length - 5} more in report.json</div>}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </>
  );
}

function ViolationRows({ rows }: { rows: TRunView['violations'] }) {
  return (
    <table className="t" style={{ marginTop: 8 }}>
      <tbody>
        {rows.map((v) => (
          <tr key={v.id}>
            <td>
              <span className="badge b-bad">{v.kind}</span>
            </td>
            <td>{v.name}</td>
            <td>
              {v.message}
              <pre className="evidence">{JSON.stringify(v.evidence, null, 1)}</pre>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Downloads({ runId }: { runId: string }) {
  return (
    <span className="row" data-testid="downloads">
      {(['json', 'junit', 'md', 'html'] as const).map((f) => (
        <a key={f} className="btn" href={`/api/runs/${runId}/report/${f}`} download>
          {f === 'md' ? 'Markdown' : f === 'junit' ? 'JUnit' : f.toUpperCase()}
        </a>
      ))}
    </span>
  );
}

interface TLogLine {
  id: string;
  time: string;
  level: string;
  service: string;
  instance: string;
  msg: string;
  requestId?: string;
  fields: Record<string, unknown>;
}

/** Log search over the run's lines; while the run is live the current search refreshes every 4 s. */
function Logs({ runId, live }: { runId: string; live: boolean }) {
  const [q, setQ] = useState({ service: '', level: '', text: '' });
  const [lines, setLines] = useState<TLogLine[] | null>(null);
  const [next, setNext] = useState<string | undefined>();
  const [err, setErr] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const search = useCallback(
    async (cursor?: string) => {
      setBusy(true);
      setErr(null);
      const p = new URLSearchParams();
      if (q.service) p.set('service', q.service);
      if (q.level) p.set('level', q.level);
      if (q.text.trim()) p.set('text', q.text.trim());
      if (cursor) p.set('cursor', cursor);
      try {
        const r = await api<{ records: TLogLine[]; next?: string }>(`/api/runs/${runId}/logs?${p}`);
        setLines((prev) => (cursor && prev ? [...prev, ...r.records] : r.records));
        setNext(r.next);
      } catch (e) {
        setErr(e as ApiError);
      } finally {
        setBusy(false);
      }
    },
    [q, runId],
  );
  const latest = useRef(search);
  latest.current = search;
  useEffect(() => {
    void latest.current();
    if (!live) return;
    const h = setInterval(() => void latest.current(), 4000);
    return () => clearInterval(h);
  }, [runId, live]);
  return (
    <section className="panel" data-testid="logs">
      <header>
        <h2>Logs of this run</h2>
      </header>
      <form
        className="row"
        style={{ marginBottom: 8 }}
        onSubmit={(e) => {
          e.preventDefault();
          void search();
        }}
      >
        <select value={q.service} onChange={(e) => setQ({ ...q, service: e.target.value })} name="service">
          <option value="">all services</option>
          {['gateway', 'users', 'catalog', 'orders', 'payments'].map((s) => (
            <option key={s}>{s}</option>
          ))}
        </select>
        <select value={q.level} onChange={(e) => setQ({ ...q, level: e.target.value })} name="level">
          <option value="">any level</option>
          {['debug', 'info', 'warn', 'error', 'fatal'].map((s) => (
            <option key={s} value={s}>
              {s}+
            </option>
          ))}
        </select>
        <input value={q.text} onChange={(e) => setQ({ ...q, text: e.target.value })} placeholder="text, e.g. breaker open" name="text" style={{ width: 280 }} />
        <button type="submit" disabled={busy}>
          Search
        </button>
      </form>
      <ErrorBox error={err} />
      {!lines ? (
        <Loading what="logs" />
      ) : lines.length === 0 ? (
        <Empty>No log line matches.</Empty>
      ) : (
        <div className="logs">
          {lines.map((l) => (
            <div key={l.id} className={`lv-${l.level}`}>
              <span className="dim">{l.time.slice(11, 23)}</span> <b>{l.level.padEnd(5)}</b> <span className="muted">{l.instance}</span> {l.msg}
              {Object.keys(l.fields).length ? <span className="dim"> {JSON.stringify(l.fields)}</span> : null}
            </div>
          ))}
          {next && (
            <div>
              <button className="ghost" onClick={() => void search(next)} disabled={busy}>
                more…
              </button>
            </div>
          )}
        </div>
      )}
    </section>
  );
}
