/**
 * The fault catalog: the registry of fault modules and the one way to apply
 * a fault.
 *
 *   spec ─▶ zod (field errors) ─▶ resolve target + allowlist ─▶ lever released? ─▶ ledger row ─▶ apply ─▶ lever still released?
 *                                                                                   │           │            │ no: undo, HALTED
 *                                                          undo recorded step by step ◀─────────┘
 *   remove(): undo ─▶ ledger row removed
 */
import { AppError, toAppError } from '../../core/errors.js';
import { parseWith } from '../../core/validate.js';
import { assertLeverReleased, leverEngagedError, leverState } from '../safety/lever.js';
import { getFault, insertFault, markActive, markApplyFailed, markFailed, markRemoved, newFaultId, saveUndo } from '../safety/ledger.js';
import { FaultSpecSchema, type TFaultSpec, type TFaultType } from './spec.js';
import type { TApplyContext, TFaultContext, TFaultModule, TUndo } from './types.js';
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
  await insertFault(ctx.db, {
    id,
    runId: ctx.runId,
    type: spec.type,
    target: targetText(spec),
    params: spec.params,
    expiresAt: ctx.expiresAt,
    detached: ctx.detached,
  });
  let undo: TUndo = {};
  const actx: TApplyContext = {
    ...ctx,
    faultId: id,
    recordUndo: async (u) => {
      undo = u;
      await saveUndo(ctx.db, id, u);
    },
  };
  let removeFn: () => Promise<void>;
  try {
    removeFn = await moduleOf(spec.type).apply(spec.target as never, spec.params as never, actx);
  } catch (e) {
    const err = toAppError(e);
    let undone = true;
    try {
      await revertUndo(undo, ctx, id);
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
    spec,
    async remove() {
      if (removed) return;
      try {
        await removeFn();
      } catch (e) {
        const err = toAppError(e);
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
