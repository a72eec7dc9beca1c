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
 * for every user and clears when anyone releases the lever. State and
 * actions: use-safety-lever.ts; the three faces: lever-parts.tsx.
 */
import { LeverEngaged, LeverReasonForm, LeverReleased } from './lever-parts.js';
import { useSafetyLever } from './use-safety-lever.js';

export function HaltAll({ canHalt }: { canHalt: boolean }) {
  const s = useSafetyLever();
  if (s.lever?.engaged) return <LeverEngaged lever={s.lever} msg={s.msg} canHalt={canHalt} busy={s.busy} onRelease={s.release} />;
  if (s.asking)
    return <LeverReasonForm reason={s.reason} msg={s.msg} busy={s.busy} onReason={s.setReason} onEngage={() => void s.engage()} onCancel={s.cancel} />;
  return <LeverReleased faults={s.faults} msg={s.msg} canHalt={canHalt} busy={s.busy} onHalt={s.ask} />;
}
