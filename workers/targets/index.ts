// Targets as the runner and the CLI use them: checking every piece a target file names.
export { checkTarget, type TCheckLine, type TCheckTargetOptions } from './check-target.js';
