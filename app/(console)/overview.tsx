'use client';
/** Overview: shop topology with live health, breakers and faults; runs; schedules. Polls every 3 s. */
import Link from 'next/link';
import { useEffect, useState } from 'react';
import { api, ApiError } from '../_components/api.js';
import { Empty, ErrorBox, Loading } from '../_components/states.js';
import { ago, BREAKER_STATES, verdictClass } from '../_components/format.js';
import type { TOverview } from '../_lib/overview.js';

const SERVICES = ['gateway', 'users', 'catalog', 'orders', 'payments'];
const stateDot: Record<string, string> = { running: 'ok', starting: 'warn', paused: 'warn', stopped: 'dim', crashed: 'bad' };
const breakerBadge = ['b-ok', 'b-bad', 'b-warn'];
/** Worst first: open > half-open > closed. */
const RANK: Record<number, number> = { 0: 0, 2: 1, 1: 2 };

export function Overview() {
  const [d, setD] = useState<TOverview | null>(null);
  const [err, setErr] = useState<ApiError | null>(null);
  useEffect(() => {
    let stop = false;
    const tick = () =>
      api<TOverview>('/api/overview')
        .then((r) => {
          if (!stop) {
            setD(r);
            setErr(null);
          }
        })
        .catch((e) => !stop && setErr(e as ApiError));
    tick();
    const h = setInterval(tick, 3000);
    return () => {
      stop = true;
      clearInterval(h);
    };
  }, []);
  if (!d) return err ? <ErrorBox error={err} /> : <Loading what="overview" />;
  const faults = d.faults.ok ? d.faults.data : [];
  const faultOn = (target: string) => faults.filter((f) => f.target === target || f.target.includes(`"${target}"`));
  const topo = d.topology.ok ? d.topology.data : null;
  // A breaker's state on the overview is the worst over the instances that hold it.
  const breakers = new Map<string, { state: number; instances: string[] }>();
  for (const b of topo?.breakers ?? [])
    for (const s of b.states) {
      const cur = breakers.get(s.breaker) ?? { state: 0, instances: [] };
      if (s.state !== 0) cur.instances.push(b.instance);
      if (RANK[s.state] > RANK[cur.state]) cur.state = s.state;
      breakers.set(s.breaker, cur);
    }
  const runs = d.runs.ok ? d.runs.data : [];
  const active = d.active.ok ? d.active.data : [];
  return (
    <>
      <ErrorBox error={err} />
      <div className="grid4">
        <div className="panel stat">
          <span className="l">Instances running</span>
          <span className="v">{topo ? `${topo.instances.filter((i) => i.state === 'running').length}/${topo.instances.length}` : '—'}</span>
        </div>
        <div className="panel stat">
          <span className="l">Active faults</span>
          <span className="v" style={{ color: faults.length ? 'var(--bad)' : undefined }}>
            {faults.length}
          </span>
        </div>
        <div className="panel stat">
          <span className="l">Open breakers</span>
          <span className="v" style={{ color: [...breakers.values()].some((b) => b.state === 1) ? 'var(--bad)' : undefined }}>
            {[...breakers.values()].filter((b) => b.state !== 0).length}
          </span>
        </div>
        <div className="panel stat">
          <span className="l">Runs in progress</span>
          <span className="v">{active.length}</span>
        </div>
      </div>

      <section className="panel" data-testid="topology">
        <header>
          <h2>Shop topology</h2>
          <span className="dim">live · 3 s</span>
        </header>
        {!d.topology.ok ? (
          <ErrorBox error={d.topology.error} />
        ) : (
          <>
            <div className="topo">
              {SERVICES.map((svc) => {
                const inst = topo!.instances.filter((i) => i.service === svc);
                const up = inst.filter((i) => i.state === 'running').length;
                return (
                  <div className="svc" key={svc}>
                    <div className="name">
                      <span>
                        <span className={`dot ${up === inst.length && up > 0 ? 'ok' : up > 0 ? 'warn' : 'bad'}`} />
                        {svc}
                      </span>
                      <span className="dim">
                        {up}/{inst.length}
                      </span>
                    </div>
                    {inst.length === 0 && <div className="dim">no instance</div>}
                    {inst.map((i) => (
                      <div className="inst" key={i.id}>
                        <span>
                          <span className={`dot ${stateDot[i.state] ?? 'dim'}`} />
                          {i.id}
                        </span>
                        <span>
                          {i.state !== 'running' ? i.state : `:${i.port}`}
                          {i.restarts > 0 ? ` ↻${i.restarts}` : ''}
                        </span>
                      </div>
                    ))}
                  </div>
                );
              })}
            </div>
            <table className="t" style={{ marginTop: 10 }}>
              <thead>
                <tr>
                  <th>Edge</th>
                  <th>Kind</th>
                  <th className="num">Proxies</th>
                  <th>Breaker</th>
                  <th>Faults</th>
                </tr>
              </thead>
              <tbody>
                {topo!.edges.map((e) => {
                  const b = breakers.get(e.name);
                  const fs = faultOn(e.name);
                  return (
                    <tr key={e.name} data-edge={e.name}>
                      <td className="mono">{e.name}</td>
                      <td className="muted">{e.kind}</td>
                      <td className="num">{e.proxies.length}</td>
                      <td>
                        {b ? (
                          <span className={`badge ${breakerBadge[b.state] ?? 'b-dim'}`} title={b.instances.join(', ')}>
                            {BREAKER_STATES[b.state] ?? b.state}
                          </span>
                        ) : (
                          <span className="dim">—</span>
                        )}
                      </td>
                      <td>
                        {fs.map((f) => (
                          <span key={f.id} className="badge b-orange" style={{ marginRight: 4 }}>
                            {f.type}
                          </span>
                        ))}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </>
        )}
      </section>

      <div className="grid2">
        <section className="panel">
          <header>
            <h2>Recent runs</h2>
            <Link href="/runs">all runs</Link>
          </header>
          {!d.runs.ok ? (
            <ErrorBox error={d.runs.error} />
          ) : runs.length === 0 ? (
            <Empty>
              No runs yet. Start one from <Link href="/experiments">Experiments</Link>.
            </Empty>
          ) : (
            <table className="t" data-testid="recent-runs">
              <thead>
                <tr>
                  <th>Experiment</th>
                  <th>State</th>
                  <th>Trigger</th>
                  <th>Started</th>
                </tr>
              </thead>
              <tbody>
                {runs.map((r) => (
                  <tr key={r.id}>
                    <td>
                      <Link href={`/runs/${r.id}`}>{r.experimentName}</Link>
                    </td>
                    <td>
                      <span className={`badge ${verdictClass(r.state)}`}>{r.state}</span>
                    </td>
                    <td className="muted">{r.trigger}</td>
                    <td className="muted">{ago(r.createdAt as unknown as string)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
        <div style={{ display: 'grid', gap: 12, alignContent: 'start' }}>
          <section className="panel">
            <header>
              <h2>Active faults</h2>
            </header>
            {!d.faults.ok ? (
              <ErrorBox error={d.faults.error} />
            ) : faults.length === 0 ? (
              <Empty>No fault is active.</Empty>
            ) : (
              <table className="t" data-testid="faults-table">
                <tbody>
                  {faults.map((f) => (
                    <tr key={f.id}>
                      <td>
                        <span className="badge b-orange">{f.type}</span>
                      </td>
                      <td className="mono">{f.target}</td>
                      <td className="muted">{f.runId ? <Link href={`/runs/${f.runId}`}>run</Link> : 'manual'}</td>
                      <td className="muted">{ago(f.appliedAt as unknown as string)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </section>
          <section className="panel">
            <header>
              <h2>Upcoming schedules</h2>
              <Link href="/schedules">schedules</Link>
            </header>
            {!d.schedules.ok ? (
              <ErrorBox error={d.schedules.error} />
            ) : d.schedules.data.length === 0 ? (
              <Empty>No enabled schedule.</Empty>
            ) : (
              <table className="t">
                <tbody>
                  {d.schedules.data.map((s) => (
                    <tr key={s.id}>
                      <td>{s.name}</td>
                      <td className="mono muted">
                        {s.cron} {s.timezone}
                      </td>
                      <td className="muted">{ago(s.next[0])}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </section>
        </div>
      </div>
    </>
  );
}
