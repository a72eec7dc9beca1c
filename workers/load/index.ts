/**
 * workers/load: a run's load split over the workers of the platform's `load`
 * queue (`load.segments: N`): the coordinator (distributeLoad) and the
 * segment job (runSegmentJob) that any worker with the load role runs.
 */
export { distributeLoad, type TDistributeLoadOptions, type TSegmentState } from './distribute-load.js';
export { runSegmentJob, type TRunSegmentJobOptions } from './run-segment.js';
export { LOAD_SEGMENT_JOB_NAME, LOAD_SEGMENT_JOB_VERSION, LoadSegmentPayloadSchema, loadSegmentJob, type TLoadSegmentPayload } from './segment-job.js';
export { upStream, downStream, segmentName, formatSegmentProgress, type TSegmentUp, type TSegmentDown } from './messages.js';
