/**
 * The three faces of the top bar's safety lever (halt-all.tsx picks one):
 * engaged banner, reason form, released button. Their texts, roles, aria
 * labels and test ids are what e2e/chaos/halt.spec.ts drives.
 */
import { Time } from './time.js';
import type { TActiveFault } from './use-safety-lever.js';

/** ● Halted by X at T: reason [Release], shown to everyone. */
export function LeverEngaged(p: {
  lever: { by: string; at: string; reason: string };
  msg: string | null;
  canHalt: boolean;
  busy: boolean;
  onRelease: () => void;
}) {
  return (
    <span className="halt" data-testid="lever-engaged" role="status">
      <span className="pulse" />
      <span>
        Halted by {p.lever.by} at <Time at={p.lever.at} />: {p.lever.reason}
      </span>
      {p.msg && (
        <span className="muted" data-testid="lever-msg">
          {p.msg}
        </span>
      )}
      <button disabled={!p.canHalt || p.busy} title={p.canHalt ? 'Release the lever: runs and faults may start again' : 'operators only'} onClick={p.onRelease}>
        Release
      </button>
    </span>
  );
}

/** The reason field before engaging; Escape or Cancel closes it. */
export function LeverReasonForm(p: {
  reason: string;
  msg: string | null;
  busy: boolean;
  onReason: (reason: string) => void;
  onEngage: () => void;
  onCancel: () => void;
}) {
  return (
    <form
      className="halt"
      data-testid="lever-form"
      onSubmit={(e) => {
        e.preventDefault();
        p.onEngage();
      }}
    >
      <input
        autoFocus
        aria-label="reason for halting"
        placeholder="why? (shown to everyone)"
        maxLength={1000}
        value={p.reason}
        onChange={(e) => p.onReason(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === 'Escape') p.onCancel();
        }}
      />
      <button type="submit" className="danger" disabled={p.busy || !p.reason.trim()}>
        Engage
      </button>
      <button type="button" disabled={p.busy} onClick={p.onCancel}>
        Cancel
      </button>
      {p.msg && <span className="muted">{p.msg}</span>}
    </form>
  );
}

/** Released: [Halt], or ● N active faults [Halt all]; nothing for a viewer when no fault is active. */
export function LeverReleased(p: { faults: TActiveFault[]; msg: string | null; canHalt: boolean; busy: boolean; onHalt: () => void }) {
  const active = p.faults.length > 0;
  if (!active && !p.canHalt) return p.msg ? <span className="muted">{p.msg}</span> : null;
  return (
    <span
      className={active ? 'halt' : undefined}
      data-testid={active ? 'active-faults' : 'lever-released'}
      title={p.faults.map((f) => `${f.type} on ${f.target}`).join('\n')}
    >
      {active && (
        <>
          <span className="pulse" />
          {p.faults.length} active fault{p.faults.length > 1 ? 's' : ''}
        </>
      )}
      {!active && p.msg && <span className="muted">{p.msg}</span>}
      <button
        className={active ? 'danger' : undefined}
        disabled={!p.canHalt || p.busy}
        title={p.canHalt ? 'Safety lever: remove every fault, abort every run, refuse new ones until released' : 'operators only'}
        onClick={p.onHalt}
      >
        {active ? 'Halt all' : 'Halt'}
      </button>
    </span>
  );
}
