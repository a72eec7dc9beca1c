/**
 * The `faultline` command. Each subcommand lives in `cli/commands/<name>.ts`
 * and exports `register(program)`; they are discovered here so commands can
 * be added without touching this file.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Command, CommanderError } from 'commander';
import { toAppError } from '../core/errors.js';

const here = path.dirname(fileURLToPath(import.meta.url));

function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(path.join(here, '..', 'package.json'), 'utf8')) as { version?: string }).version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

export async function buildProgram(): Promise<Command> {
  const program = new Command('faultline')
    .description('Load tests and chaos experiments with SLO, breaker and consistency verdicts')
    .version(packageVersion(), '-V, --version')
    // the error stays on screen: a hint, not the whole help text
    .showHelpAfterError('(add --help for usage)')
    .exitOverride();
  const dir = path.join(here, 'commands');
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
    .sort();
  for (const f of files) {
    // One command that fails to load must not take every other command down
    // with it: say which one is broken and carry on.
    let mod: { register?: (p: Command) => void };
    try {
      mod = (await import(pathToFileURL(path.join(dir, f)).href)) as typeof mod;
    } catch (e) {
      process.stderr.write(`faultline: command file cli/commands/${f} failed to load: ${e instanceof Error ? e.message : String(e)}\n`);
      continue;
    }
    mod.register?.(program);
  }
  return program;
}

export async function main(argv: string[] = process.argv): Promise<void> {
  const program = await buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      // commander already printed the message (and help); map usage errors to exit 2
      process.exitCode = e.exitCode === 0 ? 0 : 2;
      return;
    }
    const err = toAppError(e);
    process.stderr.write(`faultline: ${err.toText()}\n`);
    if (process.env.FAULTLINE_DEBUG) process.stderr.write(`${(e as Error)?.stack ?? ''}\n`);
    process.exitCode = err.exitCode;
  }
}

// `tsx cli/main.ts …` (npm run faultline); cli/bin.mjs calls main() itself.
if (process.argv[1] && /cli[\\/]main\.ts$/.test(process.argv[1])) {
  await main();
}
