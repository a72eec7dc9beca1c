'use client';
/**
 * The safety lever's state for the top bar: the lever and the active faults
 * as the server says (GET /api/safety and /api/faults, polled every 2 s),
 * the operator's reason form, and the two actions (engage, release).
 * Engaged is what the server says, never a local flag.
 */
import { useCallback, useEffect, useState } from 'react';
import { api } from './api.js';

export interface TActiveFault {
  id: string;
  type: string;
  target: string;
  runId: string | null;
}

export type TLever = { engaged: false } | { engaged: true; by: string; at: string; reason: string };

interface TEngageResult {
  lever: TLever;
  halt: { removed: unknown[]; toxics: unknown[]; errors: { component: string; message: string }[] };
  runs: { id: string; outcome: string }[];
}

/** What engaging did, in one line: faults removed, runs aborted, components not reached. */
function engagedMessage(r: TEngageResult): string {
  const aborted = r.runs.length;
  const errs = r.halt.errors.map((e) => `${e.component}: ${e.message}`).join('; ');
  return `${r.halt.removed.length} fault${r.halt.removed.length === 1 ? '' : 's'} removed, ${aborted} run${aborted === 1 ? '' : 's'} aborted${errs ? ` (not reached: ${errs})` : ''}`;
}

export function useSafetyLever() {
  const [faults, setFaults] = useState<TActiveFault[]>([]);
  const [lever, setLever] = useState<TLever | null>(null);
  const [busy, setBusy] = useState(false);
  const [asking, setAsking] = useState(false);
  const [reason, setReason] = useState('');
  const [msg, setMsg] = useState<string | null>(null);

  const refresh = useCallback(async () => {
    const [f, s] = await Promise.allSettled([api<{ faults: TActiveFault[] }>('/api/faults'), api<{ lever: TLever }>('/api/safety')]);
    // keep the last known value when a poll fails; the next one retries
    if (f.status === 'fulfilled') setFaults(f.value.faults);
    if (s.status === 'fulfilled') setLever(s.value.lever);
  }, []);

  useEffect(() => {
    let stop = false;
    const tick = () => void (stop ? undefined : refresh());
    tick();
    const h = setInterval(tick, 2000);
    return () => {
      stop = true;
      clearInterval(h);
    };
  }, [refresh]);

  const engage = async () => {
    const why = reason.trim();
    if (!why) {
      setMsg('give a reason');
      return;
    }
    setBusy(true);
    try {
      const r = await api<TEngageResult>('/api/safety', { method: 'POST', body: { reason: why } });
      setLever(r.lever);
      setFaults([]);
      setAsking(false);
      setReason('');
      setMsg(engagedMessage(r));
    } catch (e) {
      setMsg(`halt failed: ${(e as Error).message}`);
    } finally {
      setBusy(false);
    }
  };

  const release = async () => {
    setBusy(true);
    try {
      const r = await api<{ lever: TLever }>('/api/safety', { method: 'DELETE' });
      setLever(r.lever);
      setMsg(null);
    } catch (e) {
      setMsg(`release failed: ${(e as Error).message}`);
    } finally {
      setBusy(false);
    }
  };

  /** Open the reason form (the Halt / Halt all button). */
  const ask = () => {
    setMsg(null);
    setAsking(true);
  };

  return { faults, lever, busy, asking, reason, setReason, msg, engage, release, ask, cancel: () => setAsking(false) };
}
