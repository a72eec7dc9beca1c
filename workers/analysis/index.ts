// Public surface of workers/analysis: pure SLO and breaker analysis, the consistency checker, and analyseRun.
export * from './types.js';
export * from './slo.js';
export * from './breakers.js';
export * from './history.js';
export {
  checkConsistency,
  captureConsistencyBaseline,
  isSettled,
  settledDetail,
  judgeInvariant,
  baselineFindingsFor,
  violationsFor,
  INVARIANT_DESCRIPTIONS,
  type TConsistencyInput,
} from './consistency.js';
export * from './analyse-run.js';
