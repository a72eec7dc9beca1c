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

/**
 * An edited copy can go back to its shipped file; a saved experiment can be
 * deleted (the API refuses while a schedule starts it). Operators only.
 */
export function SourceActions({ id, source, editedFrom, canEdit }: { id: string; source: string; editedFrom?: string; canEdit: boolean }) {
  const router = useRouter();
  const [err, setErr] = useState<ApiError | null>(null);
  if (source === 'shipped') return null;
  const edited = source === 'edited';
  return (
    <div className="row" data-testid="experiment-source">
      {edited && (
        <span className="muted">
          edited copy of <span className="mono">{editedFrom}</span>
        </span>
      )}
      {canEdit && (
        <button
          className="ghost"
          data-testid={edited ? 'back-to-file' : 'delete-experiment'}
          onClick={async () => {
            if (!confirm(edited ? `Drop the edited copy of ${id} and go back to ${editedFrom}?` : `Delete experiment ${id}?`)) return;
            setErr(null);
            try {
              await api(`/api/experiments/${encodeURIComponent(id)}`, { method: 'DELETE' });
              if (edited) router.refresh();
              else router.push('/experiments');
            } catch (e) {
              setErr(e as ApiError);
            }
          }}
        >
          {edited ? 'Back to the file' : 'Delete'}
        </button>
      )}
      {err && <ErrorBox error={err} />}
    </div>
  );
}
