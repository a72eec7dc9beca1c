/**
 * The fault catalog: the registry of fault modules and the one way to apply
 * a fault.
 *
 *   spec ─▶ zod (field errors) ─▶ resolve target + allowlist ─▶ lever released? ─▶ ledger row ─▶ apply ─▶ lever still released?
 *                                                                                   │           │            │ no: undo, HALTED
 *                                                          undo recorded step by step ◀─────────┘
 *   remove(): undo ─▶ ledger row removed
 *
 * `applyRecordedFault` is the same ledger around an apply made elsewhere (a
 * target's process commands, workers/): its undo record is written first.
 */
import { AppError, toAppError } from '../../core/errors.js';
import { parseWith } from '../../core/validate.js';
import { assertLeverReleased, leverEngagedError, leverState } from '../safety/lever.js';
import { getFault, insertFault, markActive, markApplyFailed, markFailed, markRemoved, newFaultId, saveUndo } from '../safety/ledger.js';
import { FaultSpecSchema, type TFaultSpec, type TFaultType } from './spec.js';
import type { TFaultContext, TFaultModule, TRemove, TUndo } from './types.js';
import { revertUndo, type TRevertResult } from './undo.js';
import latency from './latency.js';
import jitter from './jitter.js';
import bandwidth from './bandwidth.js';
import timeout from './timeout.js';
import blackhole from './blackhole.js';
import resetPeer from './reset-peer.js';
import slowClose from './slow-close.js';
import limitData from './limit-data.js';
import edgeDown from './edge-down.js';
import partition from './partition.js';
import kill from './kill.js';
import killPercentage from './kill-percentage.js';
import pause from './pause.js';
import restart from './restart.js';
import httpAbort from './http-abort.js';
import httpDelay from './http-delay.js';

export const FAULTS: { [T in TFaultType]: TFaultModule<T> } = {
  latency,
  jitter,
  bandwidth,
  timeout,
  blackhole,
  reset_peer: resetPeer,
  slow_close: slowClose,
  limit_data: limitData,
  edge_down: edgeDown,
  partition,
  kill,
  kill_percentage: killPercentage,
  pause,
  restart,
  http_abort: httpAbort,
  http_delay: httpDelay,
};

function moduleOf(type: TFaultType): TFaultModule {
  return FAULTS[type] as unknown as TFaultModule;
}

/** Target as stored in the ledger: partitions keep their edge list as JSON. */
export function targetText(spec: TFaultSpec): string {
  return typeof spec.target === 'string' ? spec.target : JSON.stringify(spec.target);
}

/**
 * Parse a fault spec and resolve its target against the running shop,
 * changing nothing. Throws AppError VALIDATION (field issues) or
 * TARGET_NOT_ALLOWED.
 */
export async function validateFault(input: unknown, ctx: TFaultContext): Promise<TFaultSpec> {
  const spec = parseWith(FaultSpecSchema, input, 'fault');
  await moduleOf(spec.type).validate(spec as never, ctx);
  return spec;
}

export interface TAppliedFault {
  id: string;
  spec: TFaultSpec;
  /** Undo the fault and close its ledger row. Idempotent. */
  remove(): Promise<void>;
}

/**
 * Validate, record, then apply one fault. Nothing is changed when the spec
 * or its target is invalid; when applying fails half-way what was done is
 * undone before the error is rethrown. While the safety lever is engaged no
 * fault is applied, whoever asks (a run, `faultline faults apply`, the API):
 * AppError HALTED.
 */
export async function applyFault(input: unknown, ctx: TFaultContext): Promise<TAppliedFault> {
  const spec = parseWith(FaultSpecSchema, input, 'fault');
  // Before the target is resolved: an engaged lever is the answer even when the shop is down.
  await assertLeverReleased(ctx.db, 'new faults');
  await moduleOf(spec.type).validate(spec as never, ctx);
  const id = newFaultId();
  // Where the toxics and instances are, so a reconciler whose own URLs differ (a target's Toxiproxy) undoes them there.
  const where: TUndo = { toxiproxyUrl: ctx.toxiproxyUrl, ...(ctx.supervisorUrl ? { supervisorUrl: ctx.supervisorUrl } : {}) };
  let undo: TUndo = where;
  const handle = await recordAndApply(
    ctx,
    { id, type: spec.type, target: targetText(spec), params: spec.params, undo },
    async () =>
      moduleOf(spec.type).apply(spec.target as never, spec.params as never, {
        ...ctx,
        faultId: id,
        recordUndo: async (u) => {
          undo = { ...u, ...where };
          await saveUndo(ctx.db, id, undo);
        },
      }),
    // what was done so far, from the undo recorded step by step
    () => revertUndo(undo, ctx, id).then(() => undefined),
  );
  return { ...handle, spec };
}

/**
 * Record, then apply, a fault whose effect chaos/ does not make itself: a
 * target's process commands, run by workers/ (target files sit above
 * chaos/). `undo` is written with the row, before `apply` runs, so a
 * reconciler or a halt in another process can undo it (through
 * `ctx.undoCommand` for `TUndo.commands`). Same lever checks and ledger
 * states as `applyFault`; `revertOnFailure` undoes a failed apply (absent:
 * the failed apply changed nothing that could be undone).
 */
export async function applyRecordedFault(
  ctx: TFaultContext,
  fault: { type: string; target: string; params?: unknown; undo: TUndo },
  apply: () => Promise<TRemove>,
  opts: { revertOnFailure?: () => Promise<void> } = {},
): Promise<{ id: string; remove(): Promise<void> }> {
  await assertLeverReleased(ctx.db, 'new faults');
  return recordAndApply(ctx, { id: newFaultId(), ...fault, params: fault.params ?? {} }, apply, opts.revertOnFailure ?? (async () => undefined));
}

/** The ledger around one apply: row ─▶ apply ─▶ lever still released? ─▶ active; remove() ─▶ removed. */
async function recordAndApply(
  ctx: TFaultContext,
  row: { id: string; type: string; target: string; params: unknown; undo: TUndo },
  apply: () => Promise<TRemove>,
  revert: () => Promise<void>,
): Promise<{ id: string; remove(): Promise<void> }> {
  const { id } = row;
  await insertFault(ctx.db, { ...row, runId: ctx.runId, expiresAt: ctx.expiresAt, detached: ctx.detached });
  let removeFn: TRemove;
  try {
    removeFn = await apply();
  } catch (e) {
    const err = toAppError(e);
    let undone = true;
    try {
      await revert();
    } catch {
      undone = false;
    }
    await markApplyFailed(ctx.db, id, err.message, undone);
    throw err;
  }
  // The lever may have been engaged while this fault was being applied, after
  // its halt swept the proxy: checking again after the apply closes that gap
  // (engaged before this read: we see it and undo; engaged after: the halt
  // that follows the lever's write runs after our apply and removes it).
  const lever = await leverState(ctx.db);
  if (lever.engaged) {
    await removeFn().then(
      () => markApplyFailed(ctx.db, id, 'safety lever engaged during apply', true),
      // Left open (failed) so the reconciler retries the removal.
      (e) => markFailed(ctx.db, id, `safety lever engaged during apply; removal failed: ${toAppError(e).message}`),
    );
    throw leverEngagedError(lever, 'new faults');
  }
  await markActive(ctx.db, id);
  let removed = false;
  return {
    id,
    async remove() {
      if (removed) return;
      try {
        await removeFn();
      } catch (e) {
        const err = toAppError(e);
        // Removed meanwhile by another (a halt running beside this removal, the
        // reconciler): its row says so, and what this fault did is undone.
        const row = await getFault(ctx.db, id).catch(() => undefined);
        if (row?.removedAt) {
          removed = true;
          return;
        }
        await markFailed(ctx.db, id, err.message);
        throw err;
      }
      await markRemoved(ctx.db, id);
      removed = true;
    },
  };
}

/** Remove a fault by ledger id, from what its row recorded (any process can do this). */
export async function removeFault(id: string, ctx: TFaultContext): Promise<TRevertResult> {
  const row = await getFault(ctx.db, id);
  if (!row) throw new AppError('NOT_FOUND', `no fault with id "${id}"`, { issues: [{ path: 'id', message: `no fault "${id}" in the ledger` }] });
  if (row.removedAt) return { toxicsRemoved: [], proxiesEnabled: [], instancesResumed: [], instancesStarted: [], httpFaultsRemoved: [] };
  try {
    const r = await revertUndo(row.undo as TUndo, ctx, id);
    await markRemoved(ctx.db, id);
    return r;
  } catch (e) {
    const err = toAppError(e);
    await markFailed(ctx.db, id, err.message);
    throw err;
  }
}

export { FaultSpecSchema } from './spec.js';
export type { TRevertResult } from './undo.js';
