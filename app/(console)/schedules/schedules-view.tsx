'use client';
import Link from 'next/link';
import { useCallback, useEffect, useState } from 'react';
import { api, ApiError } from '../../_components/api.js';
import { DataTable } from '../../_components/data-table.js';
import { Panel } from '../../_components/panel.js';
import { ErrorBox, Loading } from '../../_components/states.js';
import { Time } from '../../_components/time.js';
import { Badge } from '../../_components/verdict-badge.js';

interface TSchedule {
  id: string;
  name: string;
  kind: 'experiment' | 'suite';
  ref: string;
  cron: string;
  timezone: string;
  enabled: boolean;
  createdBy: string;
  next: string[];
}
interface TFire {
  id: number;
  scheduleId: string;
  scheduleName: string;
  firedAt: string;
  outcome: 'started' | 'skipped' | 'failed';
  runIds: string[];
  reason: string | null;
}

export function SchedulesView({ canEdit, experiments, suites }: { canEdit: boolean; experiments: string[]; suites: string[] }) {
  const [data, setData] = useState<{ schedules: TSchedule[]; history: TFire[] } | null>(null);
  const [err, setErr] = useState<ApiError | null>(null);
  const [formErr, setFormErr] = useState<ApiError | null>(null);
  const [kind, setKind] = useState<'experiment' | 'suite'>('experiment');
  const load = useCallback(() => {
    api<{ schedules: TSchedule[]; history: TFire[] }>('/api/schedules')
      .then((d) => {
        setData(d);
        setErr(null);
      })
      .catch((e) => setErr(e as ApiError));
  }, []);
  useEffect(() => {
    load();
    const h = setInterval(load, 3000);
    return () => clearInterval(h);
  }, [load]);
  const fieldErr = (f: string) => formErr?.issues.find((i) => i.path === f)?.message;
  return (
    <>
      {canEdit && (
        <Panel title="New schedule">
          <form
            className="row top"
            data-testid="schedule-form"
            onSubmit={async (e) => {
              e.preventDefault();
              const f = new FormData(e.currentTarget);
              setFormErr(null);
              try {
                await api('/api/schedules', {
                  method: 'POST',
                  body: { name: f.get('name'), kind: f.get('kind'), ref: f.get('ref'), cron: f.get('cron'), timezone: f.get('timezone') },
                });
                (e.target as HTMLFormElement).reset();
                load();
              } catch (x) {
                setFormErr(x as ApiError);
              }
            }}
          >
            <label className="f">
              Name
              <input name="name" required placeholder="nightly payments" />
              <span className="field-error">{fieldErr('name')}</span>
            </label>
            <label className="f">
              Kind
              <select name="kind" value={kind} onChange={(e) => setKind(e.target.value as 'experiment' | 'suite')}>
                <option value="experiment">experiment</option>
                <option value="suite">suite</option>
              </select>
            </label>
            <label className="f">
              {kind === 'experiment' ? 'Experiment' : 'Suite'}
              <select name="ref">
                {(kind === 'experiment' ? experiments : suites).map((x) => (
                  <option key={x}>{x}</option>
                ))}
              </select>
              <span className="field-error">{fieldErr('ref')}</span>
            </label>
            <label className="f">
              Cron (5 fields, or 6 with seconds)
              <input name="cron" className="mono" defaultValue="0 3 * * *" required data-testid="cron-input" />
              <span className="field-error" data-testid="cron-error">
                {fieldErr('cron')}
              </span>
            </label>
            <label className="f">
              Time zone
              <input name="timezone" defaultValue="UTC" />
              <span className="field-error">{fieldErr('timezone')}</span>
            </label>
            <button className="primary push-down" type="submit">
              Create
            </button>
          </form>
          {formErr && formErr.issues.length === 0 && <ErrorBox error={formErr} />}
        </Panel>
      )}
      <ErrorBox error={err} />
      <Panel title="Schedules" note="BullMQ job schedulers · a firing that finds a run active on its target is skipped">
        {!data ? <Loading what="schedules" /> : <ScheduleTable schedules={data.schedules} canEdit={canEdit} reload={load} onError={setErr} />}
      </Panel>
      <Panel title="History">
        {!data ? (
          <Loading what="history" />
        ) : (
          <DataTable
            testId="schedule-history"
            rows={data.history}
            rowKey={(h) => h.id}
            empty="No schedule has fired yet."
            columns={[
              { header: 'Fired', className: 'mono muted', cell: (h) => <Time at={h.firedAt} /> },
              { header: 'Schedule', cell: (h) => h.scheduleName },
              { header: 'Outcome', cell: (h) => <Badge tone={h.outcome === 'started' ? 'ok' : h.outcome === 'skipped' ? 'warn' : 'bad'}>{h.outcome}</Badge> },
              {
                header: 'Runs / reason',
                cell: (h) => (
                  <>
                    {h.runIds.map((r) => (
                      <Link key={r} href={`/runs/${r}`} className="mono mr">
                        {r}
                      </Link>
                    ))}
                    <span className="muted">{h.reason}</span>
                  </>
                ),
              },
            ]}
          />
        )}
      </Panel>
    </>
  );
}

function ScheduleTable({
  schedules,
  canEdit,
  reload,
  onError,
}: {
  schedules: TSchedule[];
  canEdit: boolean;
  reload: () => void;
  onError: (e: ApiError) => void;
}) {
  const act = (p: Promise<unknown>) => p.then(reload, (e) => onError(e as ApiError));
  return (
    <DataTable
      testId="schedules"
      rows={schedules}
      rowKey={(s) => s.id}
      rowProps={(s) => ({ 'data-schedule': s.name })}
      empty="No schedule yet."
      columns={[
        { header: 'Name', cell: (s) => s.name },
        { header: 'Runs', cell: (s) => (s.kind === 'experiment' ? <Link href={`/experiments/${s.ref}`}>{s.ref}</Link> : `suite ${s.ref}`) },
        { header: 'Cron', className: 'mono', cell: (s) => s.cron },
        { header: 'Time zone', cell: (s) => s.timezone },
        {
          header: 'Next fire times (your local time; UTC on hover)',
          className: 'mono muted',
          cell: (s) =>
            s.next.map((n) => (
              <div key={n}>
                <Time at={n} relative />
              </div>
            )),
        },
        { header: 'State', cell: (s) => (s.enabled ? <Badge tone="ok">enabled</Badge> : <Badge tone="dim">disabled</Badge>) },
        {
          header: '',
          cell: (s) =>
            canEdit && (
              <span className="row">
                <button onClick={() => act(api(`/api/schedules/${s.id}`, { method: 'PATCH', body: { enabled: !s.enabled } }))}>
                  {s.enabled ? 'Disable' : 'Enable'}
                </button>
                <button className="ghost" onClick={() => confirm(`Delete schedule ${s.name}?`) && act(api(`/api/schedules/${s.id}`, { method: 'DELETE' }))}>
                  Delete
                </button>
              </span>
            ),
        },
      ]}
    />
  );
}
