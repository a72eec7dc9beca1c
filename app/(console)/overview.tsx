'use client';
/** Overview: shop topology with live health, breakers and faults; runs; schedules. Polls every 3 s. */
import Link from 'next/link';
import { useEffect, useState } from 'react';
import { api, ApiError } from '../_components/api.js';
import { DataTable } from '../_components/data-table.js';
import { BREAKER_STATES, paramsLabel, targetLabel } from '../_components/format.js';
import { Panel, Stat } from '../_components/panel.js';
import { ErrorBox, Loading } from '../_components/states.js';
import { Time } from '../_components/time.js';
import { Badge, VerdictBadge, type TTone } from '../_components/verdict-badge.js';
import type { TOverview } from '../_lib/overview.js';

const SERVICES = ['gateway', 'users', 'catalog', 'orders', 'payments'];
const stateDot: Record<string, string> = { running: 'ok', starting: 'warn', paused: 'warn', stopped: 'dim', crashed: 'bad' };
const breakerTone: TTone[] = ['ok', 'bad', 'warn'];
/** Worst first: open > half-open > closed. */
const RANK: Record<number, number> = { 0: 0, 2: 1, 1: 2 };

type TTopology = Extract<TOverview['topology'], { ok: true }>['data'];
type TFault = Extract<TOverview['faults'], { ok: true }>['data'][number];
type TBreakers = Map<string, { state: number; instances: string[] }>;

/** A breaker's state on the overview is the worst over the instances that hold it. */
function breakersOf(topo: TTopology | null): TBreakers {
  const out: TBreakers = new Map();
  for (const b of topo?.breakers ?? [])
    for (const s of b.states) {
      const cur = out.get(s.breaker) ?? { state: 0, instances: [] };
      if (s.state !== 0) cur.instances.push(`${b.instance} ${BREAKER_STATES[s.state] ?? s.state}`);
      if (RANK[s.state] > RANK[cur.state]) cur.state = s.state;
      out.set(s.breaker, cur);
    }
  return out;
}

export function Overview() {
  const [d, setD] = useState<TOverview | null>(null);
  const [err, setErr] = useState<ApiError | null>(null);
  useEffect(() => {
    let stop = false;
    const tick = () =>
      api<TOverview>('/api/overview')
        .then((r) => {
          if (stop) return;
          setD(r);
          setErr(null);
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
  const topo = d.topology.ok ? d.topology.data : null;
  const breakers = breakersOf(topo);
  const open = [...breakers.values()].filter((b) => b.state === 1).length;
  const halfOpen = [...breakers.values()].filter((b) => b.state === 2).length;
  return (
    <>
      <ErrorBox error={err} />
      <div className="grid4">
        <Stat label="Instances running" value={topo ? `${topo.instances.filter((i) => i.state === 'running').length}/${topo.instances.length}` : '—'} />
        <Stat label="Active faults" value={faults.length} tone={faults.length ? 'bad' : undefined} />
        <Stat
          label="Open breakers"
          value={
            <span data-testid="open-breakers">
              {open}
              {halfOpen ? <span className="sub tone-warn"> + {halfOpen} half-open</span> : null}
            </span>
          }
          tone={open ? 'bad' : undefined}
          title="half-open breakers (probing) are counted apart"
        />
        <Stat label="Runs in progress" value={d.active.ok ? d.active.data.length : '—'} />
      </div>
      <Panel title="Shop topology" note="live · 3 s" testId="topology">
        {!d.topology.ok ? <ErrorBox error={d.topology.error} /> : <Topology topo={topo!} breakers={breakers} faults={faults} />}
      </Panel>
      <div className="grid2">
        <Panel title="Recent runs" actions={<Link href="/runs">all runs</Link>}>
          {!d.runs.ok ? (
            <ErrorBox error={d.runs.error} />
          ) : (
            <DataTable
              testId="recent-runs"
              rows={d.runs.data}
              rowKey={(r) => r.id}
              empty={
                <>
                  No runs yet. Start one from <Link href="/experiments">Experiments</Link>.
                </>
              }
              columns={[
                { header: 'Experiment', cell: (r) => <Link href={`/runs/${r.id}`}>{r.experimentName}</Link> },
                { header: 'State', cell: (r) => <VerdictBadge state={r.state} /> },
                { header: 'Trigger', className: 'muted', cell: (r) => r.trigger },
                { header: 'Started', className: 'muted', cell: (r) => <Time at={r.createdAt} /> },
              ]}
            />
          )}
        </Panel>
        <div className="stack">
          <Panel title="Active faults">{!d.faults.ok ? <ErrorBox error={d.faults.error} /> : <ActiveFaults faults={faults} />}</Panel>
          <Panel title="Upcoming schedules" actions={<Link href="/schedules">schedules</Link>}>
            {!d.schedules.ok ? (
              <ErrorBox error={d.schedules.error} />
            ) : (
              <DataTable
                headless
                rows={d.schedules.data}
                rowKey={(s) => s.id}
                empty="No enabled schedule."
                columns={[
                  { header: 'Name', cell: (s) => s.name },
                  { header: 'Cron', className: 'mono muted', cell: (s) => `${s.cron} ${s.timezone}` },
                  { header: 'Next', className: 'muted', cell: (s) => <Time at={s.next[0]} relative /> },
                ]}
              />
            )}
          </Panel>
        </div>
      </div>
    </>
  );
}

function ActiveFaults({ faults }: { faults: TFault[] }) {
  return (
    <DataTable
      testId="faults-table"
      rows={faults}
      rowKey={(f) => f.id}
      empty="No fault is active."
      columns={[
        { header: 'Fault', cell: (f) => <Badge tone="orange">{f.type}</Badge> },
        { header: 'Target', className: 'mono', cell: (f) => targetLabel(f.target) },
        { header: 'Size', className: 'muted', cell: (f) => paramsLabel(f.params) || '—' },
        { header: 'From', className: 'muted', cell: (f) => (f.runId ? <Link href={`/runs/${f.runId}`}>run</Link> : 'manual') },
        { header: 'Applied', className: 'muted', cell: (f) => <Time at={f.appliedAt} /> },
        { header: 'Expires', className: 'muted', cell: (f) => (f.expiresAt ? <Time at={f.expiresAt} relative /> : 'with its run') },
      ]}
    />
  );
}

function Topology({ topo, breakers, faults }: { topo: TTopology; breakers: TBreakers; faults: TFault[] }) {
  const faultOn = (edge: string) => faults.filter((f) => f.target === edge || targetLabel(f.target).split(' + ').includes(edge));
  return (
    <>
      <div className="topo">
        {SERVICES.map((svc) => {
          const inst = topo.instances.filter((i) => i.service === svc);
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
      <div className="gap-top">
        <DataTable
          rows={topo.edges}
          rowKey={(e) => e.name}
          rowProps={(e) => ({ 'data-edge': e.name })}
          columns={[
            { header: 'Edge', className: 'mono', cell: (e) => e.name },
            { header: 'Kind', className: 'muted', cell: (e) => e.kind },
            { header: 'Proxies', num: true, cell: (e) => e.proxies.length },
            { header: 'Breaker', cell: (e) => <BreakerBadge b={breakers.get(e.name)} /> },
            {
              header: 'Faults',
              cell: (e) =>
                faultOn(e.name).map((f) => (
                  <Badge key={f.id} tone="orange" title={paramsLabel(f.params)}>
                    {f.type}
                  </Badge>
                )),
            },
          ]}
        />
      </div>
    </>
  );
}

function BreakerBadge({ b }: { b: { state: number; instances: string[] } | undefined }) {
  if (!b) return <span className="dim">—</span>;
  return (
    <Badge tone={breakerTone[b.state] ?? 'dim'} title={b.instances.join(', ')}>
      {BREAKER_STATES[b.state] ?? b.state}
    </Badge>
  );
}
