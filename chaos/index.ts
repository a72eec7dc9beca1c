// The chaos module's public surface (docs/architecture.md "Faults").
export * from './faults/spec.js';
export type { TFaultContext, TUndo, TRemove } from './faults/types.js';
