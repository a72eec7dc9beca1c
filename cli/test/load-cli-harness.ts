// Runs `faultline load` the way cli/main.ts does (same error mapping), with
// only this command registered, so the CLI test does not depend on every
// other command of the tree importing cleanly.
import { Command, CommanderError } from 'commander';
import { register } from '../commands/load.js';
import { toAppError } from '../../core/errors.js';

const program = new Command('faultline').exitOverride();
register(program);
try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) process.exitCode = e.exitCode === 0 ? 0 : 2;
  else {
    const err = toAppError(e);
    process.stderr.write(`faultline: ${err.toText()}\n`);
    process.exitCode = err.exitCode;
  }
}
