/**
 * workers/ public surface: what the console and the CLI call.
 *
 *   enqueueRun ─▶ runs row (queued) + BullMQ job ─▶ worker (startWorker) ─▶ executeRun
 *   subscribeRun / waitForRun ◀── run_events + Redis `faultline:run:<id>`
 */
export { getPlatform, RUNS_QUEUE, type PlatformOptions, type TPlatform } from './platform.js';
export { enqueueRun, newRunId, EnqueueRunInputSchema, type TEnqueueRunInput } from './runs/enqueue-run.js';
export { getRun, listRuns, getRunEvents, getReport, getViolations, type TRunRow, type ListRunsFilter } from './runs/query-runs.js';
export {
  engageLever,
  releaseLever,
  leverStatus,
  haltReason,
  EngageLeverInputSchema,
  ReleaseLeverInputSchema,
  type TEngageLeverInput,
  type TEngageLeverResult,
  type TLeverRunOutcome,
} from './runs/engage-lever.js';
export { subscribeRun, requestAbort, waitForRun, type SubscribeRunOptions } from './runs/subscribe-run.js';
export { closeRunHub } from './runs/run-hub.js';
export { startWorker, type StartWorkerOptions, type TRunningWorker } from './main.js';
export {
  runChannel,
  runControlChannel,
  type TRunEvent,
  type TRunEventType,
  type TStoredRunEvent,
  type TLoadSecondEvent,
  type TSegmentSecondEvent,
  type TSegmentStateEvent,
} from './runner/events.js';
export { isTerminal, TRANSITIONS } from './runner/lifecycle.js';
export { TargetLock } from './runner/lock.js';
export { createLogStore, type LogStore, type TLogQuery, type TLogPage, type TLogRecord, type TStoredLogRecord } from './logstore/index.js';
export { readSamples, type TMetricSampleRow, type ReadSamplesFilter } from './collectors/index.js';
export { realDeps } from './runner/deps.js';
export { executorDurationMs } from './runner/timeline.js';
export { checkTarget, type TCheckLine, type TCheckTargetOptions } from './targets/index.js';
