'use client';
/**
 * One violation, explaining itself: what broke, the ids it names, and the
 * trail of those ids (saga steps, outbox events, payment rows, log lines;
 * contract 2, `evidence.trail`) in time order, folded after a few steps.
 */
import { useState } from 'react';
import { clock } from '../../../_components/format.js';
import { Badge } from '../../../_components/verdict-badge.js';
import type { TReport } from './run-model.js';

type TViolation = TReport['invariants'][number]['violations'][number];
type TTrailEntry = NonNullable<TViolation['trail']>[number];

/** Steps shown before "show all". */
const FOLDED = 4;

export function Violation({ v, open }: { v: TViolation; open?: boolean }) {
  const raw = [...v.rows, ...v.events];
  return (
    <details className="violation" open={open} data-testid="violation">
      <summary>
        <Badge tone={v.preExisting ? 'dim' : 'bad'}>{v.kind}</Badge> {v.message} <span className="mono dim">{v.ids.join(', ')}</span>
      </summary>
      {v.trail && v.trail.length > 0 && <Trail entries={v.trail} />}
      {raw.length > 0 && (
        <details className="raw">
          <summary className="dim">rows and client events ({raw.length})</summary>
          <pre className="evidence">{JSON.stringify(raw, null, 1)}</pre>
        </details>
      )}
    </details>
  );
}

export function Trail({ entries }: { entries: readonly TTrailEntry[] }) {
  const [all, setAll] = useState(false);
  const shown = all ? entries : entries.slice(0, FOLDED);
  return (
    <div className="trail" data-testid="trail">
      <ol>
        {shown.map((e, i) => (
          <li key={i}>
            <span className="dim mono" title={e.at ?? 'no time recorded'}>
              {e.at ? clock(new Date(e.at)) : '—'}
            </span>
            <span className="mono src">{e.source}</span>
            <span>{e.text}</span>
          </li>
        ))}
      </ol>
      {entries.length > FOLDED && (
        <button className="ghost" onClick={() => setAll(!all)}>
          {all ? 'show fewer' : `show all ${entries.length} steps`}
        </button>
      )}
    </div>
  );
}

/**
 * A violation row as stored before the report is read (runs' `violations`
 * table): its evidence is the report's violation object for consistency
 * findings, the SLO figures or the breaker result otherwise.
 */
export function StoredViolation({ kind, name, message, evidence }: { kind: string; name: string; message: string; evidence: unknown }) {
  const ev = (evidence ?? {}) as { trail?: TTrailEntry[]; preExisting?: boolean };
  return (
    <details className="violation" data-testid="violation">
      <summary>
        <Badge tone={ev.preExisting ? 'dim' : 'bad'}>{kind}</Badge> {name}: {message}
        {ev.preExisting && <span className="dim"> · pre-existing, does not fail the run</span>}
      </summary>
      {Array.isArray(ev.trail) && ev.trail.length > 0 && <Trail entries={ev.trail} />}
      <pre className="evidence">{JSON.stringify(evidence, null, 1)}</pre>
    </details>
  );
}
