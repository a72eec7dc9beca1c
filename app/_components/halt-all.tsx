'use client';
/**
 * The safety lever in the top bar, polled every 2 s (GET /api/safety and
 * /api/faults):
 *
 *   released, no faults ─▶ [Halt]                    (operators)
 *   released, N faults   ─▶ ● N active faults [Halt all]
 *        click ─▶ reason field ─▶ [Engage] ─▶ POST /api/safety
 *   engaged              ─▶ ● Halted by X at T: reason [Release]   (everyone sees it)
 *        [Release] ─▶ DELETE /api/safety ─▶ released
 *
 * Engaged is what the server says, never a local flag: the banner shows
 * for every user and clears when anyone releases the lever.
 */
import { useCallback, useEffect, useState } from 'react';
import { api } from './api.js';
import { Time } from './time.js';

interface TActiveFault {
  id: string;
  type: string;
  target: string;
  runId: string | null;
}

type TLever = { engaged: false } | { engaged: true; by: string; at: string; reason: string };

interface TEngageResult {
  lever: TLever;
  halt: { removed: unknown[]; toxics: unknown[]; errors: { component: string; message: string }[] };
  runs: { id: string; outcome: string }[];
}

export function HaltAll({ canHalt }: { canHalt: boolean }) {
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
      const aborted = r.runs.length;
      const errs = r.halt.errors.map((e) => `${e.component}: ${e.message}`).join('; ');
      setMsg(
        `${r.halt.removed.length} fault${r.halt.removed.length === 1 ? '' : 's'} removed, ${aborted} run${aborted === 1 ? '' : 's'} aborted${errs ? ` (not reached: ${errs})` : ''}`,
      );
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

  if (lever?.engaged) {
    return (
      <span className="halt" data-testid="lever-engaged" role="status">
        <span className="pulse" />
        <span>
          Halted by {lever.by} at <Time at={lever.at} />: {lever.reason}
        </span>
        {msg && (
          <span className="muted" data-testid="lever-msg">
            {msg}
          </span>
        )}
        <button disabled={!canHalt || busy} title={canHalt ? 'Release the lever: runs and faults may start again' : 'operators only'} onClick={release}>
          Release
        </button>
      </span>
    );
  }

  if (asking) {
    return (
      <form
        className="halt"
        data-testid="lever-form"
        onSubmit={(e) => {
          e.preventDefault();
          void engage();
        }}
      >
        <input
          autoFocus
          aria-label="reason for halting"
          placeholder="why? (shown to everyone)"
          maxLength={1000}
          value={reason}
          onChange={(e) => setReason(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Escape') setAsking(false);
          }}
        />
        <button type="submit" className="danger" disabled={busy || !reason.trim()}>
          Engage
        </button>
        <button type="button" disabled={busy} onClick={() => setAsking(false)}>
          Cancel
        </button>
        {msg && <span className="muted">{msg}</span>}
      </form>
    );
  }

  const active = faults.length > 0;
  if (!active && !canHalt) return msg ? <span className="muted">{msg}</span> : null;
  return (
    <span
      className={active ? 'halt' : undefined}
      data-testid={active ? 'active-faults' : 'lever-released'}
      title={faults.map((f) => `${f.type} on ${f.target}`).join('\n')}
    >
      {active && (
        <>
          <span className="pulse" />
          {faults.length} active fault{faults.length > 1 ? 's' : ''}
        </>
      )}
      {!active && msg && <span className="muted">{msg}</span>}
      <button
        className={active ? 'danger' : undefined}
        disabled={!canHalt || busy}
        title={canHalt ? 'Safety lever: remove every fault, abort every run, refuse new ones until released' : 'operators only'}
        onClick={() => {
          setMsg(null);
          setAsking(true);
        }}
      >
        {active ? 'Halt all' : 'Halt'}
      </button>
    </span>
  );
}
