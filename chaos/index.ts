// The chaos module's public surface (docs/architecture.md "Faults").
export * from './faults/spec.js';
export type { TFaultContext, TUndo, TRemove, TCommandUndo, TUndoCommand } from './faults/types.js';
export { ToxiproxyApi, type TProxyInfo } from './faults/toxiproxy-api.js';
export { FAULTS, applyFault, applyRecordedFault, validateFault, removeFault, targetText, type TAppliedFault, type TRevertResult } from './faults/index.js';
export { haltAll, type THaltContext, type THaltResult } from './safety/halt.js';
export { reconcileFaults, startReconciler, orphanReason, type TReconcileOptions, type TReconcileResult, type TReconcilerOptions } from './safety/reconcile.js';
export { leverState, setLever, clearLever, leverHistory, assertLeverReleased, leverEngagedError, type TLeverState, type TLeverEvent } from './safety/lever.js';
export { openFaults, recentFaults, getFault, type TFaultRow } from './safety/ledger.js';
export { isHostAllowed, parseAllowedHosts, defaultAllowedHosts } from './safety/allowlist.js';
export { startFaultProxy, type TFaultProxy, type TFaultProxyOptions } from './proxy/index.js';
