'use client';
/**
 * Follow one run: Server-Sent Events from /api/runs/<id>/events (stored
 * events first, then live ones) keep the row's state current; at the verdict
 * the view (with its report) is fetched again. A finished run whose report
 * is not written yet is polled a few times.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { api, ApiError } from '../../../_components/api.js';
import type { TStoredRunEvent } from '../../../../workers/index.js';
import type { TRunView } from '../../../_lib/runs.js';
import { isTerminal } from '../../../../db/schema/run-states.js';

export type TStreamState = 'connecting' | 'live' | 'ended' | 'error';

export function useRunEvents(initial: TRunView) {
  const id = initial.run.id;
  const [view, setView] = useState(initial);
  const [events, setEvents] = useState<TStoredRunEvent[]>([]);
  const [stream, setStream] = useState<TStreamState>('connecting');
  const [error, setError] = useState<ApiError | null>(null);
  const terminal = isTerminal(view.run.state);

  const refresh = useCallback(async () => {
    try {
      setView(await api<TRunView>(`/api/runs/${id}`));
    } catch (e) {
      setError(e as ApiError);
    }
  }, [id]);

  useEffect(() => {
    const es = new EventSource(`/api/runs/${id}/events?after=0`);
    es.onopen = () => setStream('live');
    es.addEventListener('run', (m) => {
      const e = JSON.parse((m as MessageEvent).data) as TStoredRunEvent;
      setEvents((prev) => (prev.length && prev[prev.length - 1].seq >= e.seq ? prev : [...prev, e]));
      if (e.type === 'phase' || e.type === 'verdict') {
        const state = e.type === 'phase' ? e.phase : e.verdict;
        const at = new Date(e.t).toISOString() as unknown as Date;
        setView((v) => ({ ...v, run: { ...v.run, state, ...(isTerminal(state) && !v.run.endedAt ? { endedAt: at } : {}) } }));
      }
      if (e.type === 'verdict') {
        // The report row is written right after the verdict event: fetch now and once more shortly after.
        void refresh();
        setTimeout(() => void refresh(), 2500);
      }
    });
    es.addEventListener('end', () => {
      setStream('ended');
      es.close();
      void refresh();
    });
    // EventSource reconnects by itself (Last-Event-ID); after the verdict the server closes on purpose.
    es.onerror = () => setStream((s) => (s === 'ended' ? s : 'error'));
    return () => es.close();
  }, [id, refresh]);

  const polls = useRef(0);
  useEffect(() => {
    if (!terminal || view.report || polls.current > 10) return;
    const h = setTimeout(() => {
      polls.current++;
      void refresh();
    }, 2000);
    return () => clearTimeout(h);
  }, [terminal, view.report, refresh]);

  return { view, events, stream, terminal, error, setError };
}

/** The current time, ticking every second while `on`. */
export function useNow(on: boolean): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!on) return;
    const h = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(h);
  }, [on]);
  return now;
}
