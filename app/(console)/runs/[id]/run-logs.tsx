'use client';
/**
 * The run's log lines. While the run is live the panel tails: every 2 s it
 * asks for the lines after the last full page it read (pages that were full
 * advance the cursor; the last, partial one is read again and merged by id,
 * so lines that reach the store late still show up), and it keeps the view
 * at the bottom unless the reader scrolled up.
 */
import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'react';
import { api, ApiError } from '../../../_components/api.js';
import { clock } from '../../../_components/format.js';
import { Panel } from '../../../_components/panel.js';
import { EmptyState, ErrorBox, Loading } from '../../../_components/states.js';

interface TLogLine {
  id: string;
  time: string;
  level: string;
  service: string;
  instance: string;
  msg: string;
  fields: Record<string, unknown>;
}
interface TQuery {
  service: string;
  level: string;
  text: string;
}

const PAGE = 500;
/** Lines kept on screen; older ones are dropped while tailing (a search narrows them down). */
const KEEP = 2000;
const TAIL_EVERY_MS = 2000;

function queryString(q: TQuery, cursor: string | undefined): string {
  const p = new URLSearchParams({ limit: String(PAGE) });
  if (q.service) p.set('service', q.service);
  if (q.level) p.set('level', q.level);
  if (q.text.trim()) p.set('text', q.text.trim());
  if (cursor) p.set('cursor', cursor);
  return p.toString();
}

function merge(prev: TLogLine[], fresh: TLogLine[]): TLogLine[] {
  const seen = new Set(prev.map((l) => l.id));
  const add = fresh.filter((l) => !seen.has(l.id));
  if (!add.length) return prev;
  const all = [...prev, ...add];
  // a late line may be older than the newest shown: keep time order
  if (prev.length && add[0].time < prev[prev.length - 1].time) all.sort((a, b) => a.time.localeCompare(b.time) || Number(a.id) - Number(b.id));
  return all;
}

export function RunLogs({ runId, live }: { runId: string; live: boolean }) {
  const [q, setQ] = useState<TQuery>({ service: '', level: '', text: '' });
  const [applied, setApplied] = useState(q);
  const [lines, setLines] = useState<TLogLine[] | null>(null);
  const [more, setMore] = useState(false);
  const [err, setErr] = useState<ApiError | null>(null);
  const base = useRef<string | undefined>(undefined);
  const box = useRef<HTMLDivElement>(null);
  const [follow, setFollow] = useState(true);

  /** Read from the cursor on: `pages` full pages at most (tailing catches up over several ticks). */
  const read = useCallback(
    async (pages: number) => {
      for (let i = 0; i < pages; i++) {
        const r = await api<{ records: TLogLine[]; next?: string }>(`/api/runs/${runId}/logs?${queryString(applied, base.current)}`);
        setLines((prev) => merge(prev ?? [], r.records).slice(-KEEP));
        setMore(!!r.next);
        if (!r.next) return;
        base.current = r.next;
      }
    },
    [runId, applied],
  );

  useEffect(() => {
    base.current = undefined;
    setLines(null);
    let stop = false;
    let busy = false;
    const tick = async () => {
      if (busy) return; // a slow answer: never two reads of the same cursor at once
      busy = true;
      await read(live ? 10 : 1).then(
        () => setErr(null),
        (e) => !stop && setErr(e as ApiError),
      );
      busy = false;
    };
    void tick();
    if (!live) return;
    const h = setInterval(() => void tick(), TAIL_EVERY_MS);
    return () => {
      stop = true;
      clearInterval(h);
    };
  }, [read, live]);

  useLayoutEffect(() => {
    if (follow && live && box.current) box.current.scrollTop = box.current.scrollHeight;
  }, [lines, follow, live]);

  const onScroll = () => {
    const el = box.current;
    if (el) setFollow(el.scrollHeight - el.scrollTop - el.clientHeight < 24);
  };

  return (
    <Panel title="Logs of this run" note={live ? (follow ? '● tailing' : 'paused: scrolled up') : undefined} testId="logs">
      <LogFilters q={q} setQ={setQ} onSearch={() => setApplied({ ...q })} />
      <ErrorBox error={err} />
      {!lines ? (
        <Loading what="logs" />
      ) : lines.length === 0 ? (
        <EmptyState>{live ? 'No log line yet: lines appear as the services write them.' : 'No log line matches.'}</EmptyState>
      ) : (
        <div className="logs" ref={box} onScroll={onScroll} data-testid="log-lines" data-last-id={lines[lines.length - 1].id}>
          {lines.length >= KEEP && <div className="dim">only the latest {KEEP} lines are kept here: narrow the search to see earlier ones</div>}
          {lines.map((l) => (
            <div key={l.id} className={`lv-${l.level}`} data-testid="log-line">
              <span className="dim" title={l.time}>
                {clock(new Date(l.time))}
              </span>{' '}
              <b>{l.level.padEnd(5)}</b> <span className="muted">{l.instance}</span> {l.msg}
              {Object.keys(l.fields).length ? <span className="dim"> {JSON.stringify(l.fields)}</span> : null}
            </div>
          ))}
          {more && !live && (
            <div>
              <button className="ghost" onClick={() => void read(1).catch((e) => setErr(e as ApiError))}>
                more…
              </button>
            </div>
          )}
        </div>
      )}
      {live && !follow && (
        <button className="ghost" onClick={() => setFollow(true)}>
          ↓ follow new lines
        </button>
      )}
    </Panel>
  );
}

function LogFilters({ q, setQ, onSearch }: { q: TQuery; setQ: (q: TQuery) => void; onSearch: () => void }) {
  return (
    <form
      className="row log-filters"
      onSubmit={(e) => {
        e.preventDefault();
        onSearch();
      }}
    >
      <select value={q.service} onChange={(e) => setQ({ ...q, service: e.target.value })} name="service">
        <option value="">all services</option>
        {['gateway', 'users', 'catalog', 'orders', 'payments'].map((s) => (
          <option key={s}>{s}</option>
        ))}
      </select>
      <select value={q.level} onChange={(e) => setQ({ ...q, level: e.target.value })} name="level">
        <option value="">any level</option>
        {['debug', 'info', 'warn', 'error', 'fatal'].map((s) => (
          <option key={s} value={s}>
            {s}+
          </option>
        ))}
      </select>
      <input value={q.text} onChange={(e) => setQ({ ...q, text: e.target.value })} placeholder="text, e.g. breaker open" name="text" className="w-search" />
      <button type="submit">Search</button>
    </form>
  );
}
