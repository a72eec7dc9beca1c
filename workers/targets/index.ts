// Targets as the runner and the CLI use them: checking every piece a target file names.
export { checkTarget, type TCheckLine, type TCheckTargetOptions } from './check-target.js';
export {
  isTargetSettled,
  captureTargetBaseline,
  checkTargetConsistency,
  acknowledgedIds,
  showRow,
  historyKeys,
  targetTrailReader,
  type TTrailReader,
  ACKNOWLEDGED_CHECK_NAME,
  HISTORY_CHECK_NAME,
} from './consistency.js';
export { runEntrySetup, entryHeaders, fillScenarioVars, fillVars, type TSetupVars } from './entry-setup.js';
export { resolveHttpSd, parseHttpSd, type THttpSdTarget } from './http-sd.js';
export { applyCommandFault, checkCommandFault, undoCommandFault } from './process-commands.js';
export {
  listTargets,
  getTarget,
  checkTargetFile,
  checkListedTarget,
  type TTargetSummary,
  type TTargetExperiment,
  type TTargetCheck,
  type TListTargetsOptions,
  type TSavedBy,
} from './list-targets.js';
export {
  resolveSavedTarget,
  resolveTargetFile,
  materializeSavedTarget,
  savedTargetsDir,
  savedTargetNames,
  listSavedTargets,
  getSavedTargetSummary,
  getSavedTarget,
  validateSavedTarget,
  createSavedTarget,
  updateSavedTarget,
  deleteSavedTarget,
  SAVED_TARGET_NAME,
  type TSavedTarget,
  type TSavedTargetOptions,
} from './saved-targets.js';
