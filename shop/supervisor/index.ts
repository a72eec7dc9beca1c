/**
 * The shop supervisor (`faultline shop up`): runs N instances per service,
 * one fault proxy per edge, and the loopback admin API (docs/architecture.md).
 */
export { startSupervisor, type TSupervisor, type TSupervisorOptions, type TSupervisorControl, type TPushResult } from './supervisor.js';
export { SupervisorError, isSupervisorError, type TSupervisorIssue } from './errors.js';
export {
  parseInstanceCounts,
  parseBugList,
  defaultCounts,
  planInstances,
  planProxies,
  edgesEnvFor,
  edgeViews,
  proxyName,
  type TInstanceCounts,
  type TEdgeView,
  type TBoundProxy,
} from './plan.js';
export { toxiproxyAnswers } from './proxies.js';
export type { TInstanceInfo, TInstanceState } from './processes.js';
export type { TLogLine, TLogPage } from './logs.js';
export type { THttpFault } from './http-faults.js';
