'use client';
import { useState } from 'react';
import { useRouter } from 'next/navigation';
import { api, ApiError } from '../../_components/api.js';

export function RunScenario({ name, canRun }: { name: string; canRun: boolean }) {
  const router = useRouter();
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<string | null>(null);
  const [segments, setSegments] = useState(1);
  return (
    <span className="row">
      <label className="nowrap" title="split the load into N execution segments, each run by a worker with the load role">
        segments{' '}
        <input
          type="number"
          aria-label={`segments of ${name}`}
          min={1}
          max={64}
          value={segments}
          style={{ width: '4em' }}
          onChange={(e) => setSegments(Math.max(1, Math.min(64, Math.trunc(Number(e.target.value)) || 1)))}
        />
      </label>
      <button
        className="primary nowrap"
        disabled={!canRun || busy}
        title={canRun ? `Run ${name} now, without faults` : 'operators only'}
        onClick={async () => {
          setBusy(true);
          try {
            const r = await api<{ id: string }>('/api/loadtests', { method: 'POST', body: { scenario: name, ...(segments > 1 ? { segments } : {}) } });
            router.push(`/runs/${r.id}`);
          } catch (e) {
            setErr((e as ApiError).message);
            setBusy(false);
          }
        }}
      >
        ▶ Run
      </button>
      {err && <span className="tone-bad">{err}</span>}
    </span>
  );
}
