'use client';
/**
 * The Check button: `faultline target check` run by the console server, one
 * line per piece with pass or fail and its reason. Operators only (it
 * reaches out to every piece); viewers see why the button is off.
 */
import { useState } from 'react';
import { api, ApiError } from '../../../_components/api.js';
import { DataTable } from '../../../_components/data-table.js';
import { Panel } from '../../../_components/panel.js';
import { ErrorBox, Loading } from '../../../_components/states.js';
import { Badge } from '../../../_components/verdict-badge.js';

interface TLine {
  piece: string;
  ok: boolean;
  detail: string;
  warn?: boolean;
}

export function CheckTarget({ id, canCheck }: { id: string; canCheck: boolean }) {
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<ApiError | null>(null);
  const [lines, setLines] = useState<TLine[] | null>(null);
  const failed = lines?.filter((l) => !l.ok).length ?? 0;
  return (
    <Panel
      title="Check"
      testId="target-check"
      note="asks every piece the file names whether it is there, as faultline target check does; nothing is changed"
      actions={
        <>
          {lines && (
            <Badge tone={failed ? 'bad' : 'ok'}>
              <span data-testid="check-summary">
                {lines.length - failed} ok, {failed} failed
              </span>
            </Badge>
          )}
          <button
            className="primary"
            data-testid="check-target"
            disabled={!canCheck || busy}
            title={canCheck ? 'Check every piece now' : 'operators only'}
            onClick={async () => {
              setBusy(true);
              setErr(null);
              try {
                setLines((await api<{ lines: TLine[] }>(`/api/targets/${encodeURIComponent(id)}/check`, { method: 'POST' })).lines);
              } catch (e) {
                setLines(null);
                setErr(e as ApiError);
              } finally {
                setBusy(false);
              }
            }}
          >
            Check
          </button>
          {!canCheck && <span className="dim">viewer: read only</span>}
        </>
      }
    >
      {busy && <Loading what="the check (each piece has 3 s)" />}
      <ErrorBox error={err} />
      {lines && !busy && (
        <DataTable
          testId="check-lines"
          rows={lines}
          rowKey={(l, i) => `${l.piece}-${i}`}
          rowProps={(l) => ({ 'data-piece': l.piece, 'data-ok': String(l.ok) })}
          columns={[
            { header: 'Piece', className: 'mono nowrap', cell: (l) => l.piece },
            { header: 'Result', cell: (l) => <Badge tone={!l.ok ? 'bad' : l.warn ? 'warn' : 'ok'}>{!l.ok ? 'fail' : l.warn ? 'warn' : 'pass'}</Badge> },
            { header: 'Message', className: 'muted', cell: (l) => l.detail },
          ]}
        />
      )}
      {!lines && !busy && !err && <div className="dim">Not checked yet.</div>}
    </Panel>
  );
}
