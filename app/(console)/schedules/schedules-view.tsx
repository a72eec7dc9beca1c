'use client';
import Link from 'next/link';
import { useCallback, useEffect, useState } from 'react';
import { api, ApiError } from '../../_components/api.js';
import { Empty, ErrorBox, Loading } from '../../_components/states.js';
import { ago, stamp } from '../../_components/format.js';

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
        <section className="panel">
          <header>
            <h2>New schedule</h2>
          </header>
          <form
            className="row"
            style={{ alignItems: 'flex-start' }}
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
            <button className="primary" type="submit" style={{ marginTop: 16 }}>
              Create
            </button>
          </form>
          {formErr && formErr.issues.length === 0 && <ErrorBox error={formErr} />}
        </section>
      )}
      <ErrorBox error={err} />
      <section className="panel">
        <header>
          <h2>Schedules</h2>
          <span className="dim">BullMQ job schedulers · a firing that finds a run active on its target is skipped</span>
        </header>
        {!data ? (
          <Loading what="schedules" />
        ) : data.schedules.length === 0 ? (
          <Empty>No schedule yet.</Empty>
        ) : (
          <table className="t" data-testid="schedules">
            <thead>
              <tr>
                <th>Name</th>
                <th>Runs</th>
                <th>Cron</th>
                <th>Time zone</th>
                <th>Next fire times</th>
                <th>State</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {data.schedules.map((s) => (
                <tr key={s.id} data-schedule={s.name}>
                  <td>{s.name}</td>
                  <td>
                    {s.kind === 'experiment' ? <Link href={`/experiments/${s.ref}`}>{s.ref}</Link> : `suite ${s.ref}`}
                  </td>
                  <td className="mono">{s.cron}</td>
                  <td>{s.timezone}</td>
                  <td className="mono muted">
                    {s.next.map((n) => (
                      <div key={n}>
                        {stamp(n)} <span className="dim">({ago(n)})</span>
                      </div>
                    ))}
                  </td>
                  <td>{s.enabled ? <span className="badge b-ok">enabled</span> : <span className="badge b-dim">disabled</span>}</td>
                  <td>
                    {canEdit && (
                      <span className="row">
                        <button onClick={() => api(`/api/schedules/${s.id}`, { method: 'PATCH', body: { enabled: !s.enabled } }).then(load, (e) => setErr(e as ApiError))}>
                          {s.enabled ? 'Disable' : 'Enable'}
                        </button>
                        <button
                          className="ghost"
                          onClick={() => {
                            if (confirm(`Delete schedule ${s.name}?`)) api(`/api/schedules/${s.id}`, { method: 'DELETE' }).then(load, (e) => setErr(e as ApiError));
                          }}
                        >
                          Delete
                        </button>
                      </span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <section className="panel">
        <header>
          <h2>History</h2>
        </header>
        {!data ? (
          <Loading what="history" />
        ) : data.history.length === 0 ? (
          <Empty>No schedule has fired yet.</Empty>
        ) : (
          <table className="t" data-testid="schedule-history">
            <thead>
              <tr>
                <th>Fired</th>
                <th>Schedule</th>
                <th>Outcome</th>
                <th>Runs / reason</th>
              </tr>
            </thead>
            <tbody>
              {data.history.map((h) => (
                <tr key={h.id}>
                  <td className="mono muted">{stamp(h.firedAt)}</td>
                  <td>{h.scheduleName}</td>
                  <td>
                    <span className={`badge ${h.outcome === 'started' ? 'b-ok' : h.outcome === 'skipped' ? 'b-warn' : 'b-bad'}`}>{h.outcome}</span>
                  </td>
                  <td>
                    {h.runIds.map((r) => (
                      <Link key={r} href={`/runs/${r}`} className="mono" style={{ marginRight: 8 }}>
                        {r}
                      </Link>
                    ))}
                    <span className="muted">{h.reason}</span>
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
