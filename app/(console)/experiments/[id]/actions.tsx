'use client';
/** Run now and Schedule, for operators; viewers see why the buttons are off. */
import { useState } from 'react';
import { useRouter } from 'next/navigation';
import { api, ApiError } from '../../../_components/api.js';
import { ErrorBox } from '../../../_components/states.js';

export function ExperimentActions({ id, canRun }: { id: string; canRun: boolean }) {
  const router = useRouter();
  const [err, setErr] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const [sched, setSched] = useState(false);
  const [msg, setMsg] = useState<string | null>(null);
  return (
    <section className="panel">
      <div className="row">
        <button
          className="primary"
          data-testid="run-now"
          disabled={!canRun || busy}
          title={canRun ? 'Start a run now' : 'operators only'}
          onClick={async () => {
            setBusy(true);
            setErr(null);
            try {
              const r = await api<{ id: string }>('/api/runs', { method: 'POST', body: { experimentId: id } });
              router.push(`/runs/${r.id}`);
            } catch (e) {
              setErr(e as ApiError);
              setBusy(false);
            }
          }}
        >
          ▶ Run now
        </button>
        <button disabled={!canRun} onClick={() => setSched((s) => !s)} data-testid="schedule-toggle">
          Schedule…
        </button>
        {!canRun && <span className="dim">viewer: read only</span>}
        {msg && <span className="tone-ok">{msg}</span>}
      </div>
      {sched && (
        <form
          className="row"
          onSubmit={async (ev) => {
            ev.preventDefault();
            const f = new FormData(ev.currentTarget);
            setErr(null);
            try {
              await api('/api/schedules', {
                method: 'POST',
                body: { name: f.get('name'), kind: 'experiment', ref: id, cron: f.get('cron'), timezone: f.get('timezone') },
              });
              setSched(false);
              setMsg('scheduled');
            } catch (e) {
              setErr(e as ApiError);
            }
          }}
        >
          <label className="f">
            Name
            <input name="name" defaultValue={`${id} nightly`} required />
          </label>
          <label className="f">
            Cron
            <input name="cron" defaultValue="0 3 * * *" className="mono" required />
          </label>
          <label className="f">
            Time zone
            <input name="timezone" defaultValue={Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC'} />
          </label>
          <button type="submit" className="primary self-end">
            Create schedule
          </button>
        </form>
      )}
      {err && (
        <div className="under-progress">
          <ErrorBox error={err} />
        </div>
      )}
    </section>
  );
}
