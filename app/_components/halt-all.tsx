'use client';
/**
 * Always in the top bar: while any fault is active it shows how many and a
 * Halt-all button (operators), polling the server every 2 s.
 */
import { useEffect, useState } from 'react';
import { api } from './api.js';

interface TActiveFault {
  id: string;
  type: string;
  target: string;
  runId: string | null;
}

export function HaltAll({ canHalt }: { canHalt: boolean }) {
  const [faults, setFaults] = useState<TActiveFault[]>([]);
  const [busy, setBusy] = useState(false);
  const [msg, setMsg] = useState<string | null>(null);
  useEffect(() => {
    let stop = false;
    const tick = async () => {
      try {
        const r = await api<{ faults: TActiveFault[] }>('/api/faults');
        if (!stop) setFaults(r.faults);
      } catch {
        /* keep the last known list; the next poll retries */
      }
    };
    void tick();
    const h = setInterval(tick, 2000);
    return () => {
      stop = true;
      clearInterval(h);
    };
  }, []);
  if (!faults.length) return msg ? <span className="muted">{msg}</span> : null;
  return (
    <span className="halt" data-testid="active-faults" title={faults.map((f) => `${f.type} on ${f.target}`).join('\n')}>
      <span className="pulse" />
      {faults.length} active fault{faults.length > 1 ? 's' : ''}
      <button
        className="danger"
        disabled={!canHalt || busy}
        title={canHalt ? 'Remove every active fault now' : 'operators only'}
        onClick={async () => {
          setBusy(true);
          try {
            const r = await api<{ removed: unknown[] }>('/api/faults/halt', { method: 'POST' });
            setMsg(`halted: ${r.removed.length} removed`);
            setFaults([]);
          } catch (e) {
            setMsg(`halt failed: ${(e as Error).message}`);
          } finally {
            setBusy(false);
          }
        }}
      >
        Halt all
      </button>
    </span>
  );
}
