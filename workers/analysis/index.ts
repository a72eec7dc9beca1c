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
  settleExclusions,
  judgeInvariant,
  explainWithSuspects,
  baselineFindingsFor,
  violationsFor,
  INVARIANT_DESCRIPTIONS,
  type TConsistencyInput,
} from './consistency.js';
export * from './analyse-run.js';
export { buildTrail, subjectsOf, traceViolations, TRAIL_LIMIT, TRACED_PER_INVARIANT, type TTrailLogSearch, type TTrailRows } from './trace-violations.js';
