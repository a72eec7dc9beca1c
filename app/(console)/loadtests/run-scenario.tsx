'use client';
import { useState } from 'react';
import { useRouter } from 'next/navigation';
import { api, ApiError } from '../../_components/api.js';

export function RunScenario({ name, canRun }: { name: string; canRun: boolean }) {
  const router = useRouter();
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<string | null>(null);
  return (
    <span className="row">
      <button
        className="primary nowrap"
        disabled={!canRun || busy}
        title={canRun ? `Run ${name} now, without faults` : 'operators only'}
        onClick={async () => {
          setBusy(true);
          try {
            const r = await api<{ id: string }>('/api/loadtests', { method: 'POST', body: { scenario: name } });
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
