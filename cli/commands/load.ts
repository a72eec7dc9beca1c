/**
 * `faultline load <scenario.yaml>`: run a load scenario with the built-in
 * engine or k6, show live progress, end with a k6-style summary and k6's
 * exit status (0 ok, 99 thresholds crossed, 105 interrupted, 107 setup failed).
 */
import { existsSync, readdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Command, Option } from 'commander';
import { AppError, isAppError } from '../../core/errors.js';
import { SCENARIOS_DIR, formatSummary, loadScenarioFile, parseDuration, runLoad, withOverrides, type TLoadSecond } from '../../loadtests/index.js';

function fmtMs(v: number): string {
  return v >= 1000 ? `${(v / 1000).toFixed(2)}s` : `${v.toFixed(1)}ms`;
}

/** One progress line per second: achieved vs scheduled rate, both latency views, errors, VUs, drops. */
export function progressLine(s: TLoadSecond, index: number): string {
  const errors = Object.entries(s.errorsByKind);
  const errText = errors.length ? errors.map(([k, n]) => `${k}:${n}`).join(',') : '0';
  const target = s.target ? `/${s.target}` : '';
  return `  ${String(index + 1).padStart(4)}s  rate ${s.rps}${target}/s  p95 ${fmtMs(s.p95)} p99 ${fmtMs(s.p99)}  corrected p95 ${fmtMs(s.cp95)} p99 ${fmtMs(s.cp99)}  errors ${errText}  vus ${s.activeVus}  dropped ${s.dropped}`;
}

/** Names of the scenarios shipped in loadtests/scenarios/. */
export function shippedScenarios(): string[] {
  return readdirSync(SCENARIOS_DIR)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => f.slice(0, -'.yaml'.length))
    .sort();
}

/**
 * The scenario argument as a file: an existing path as given, else a bare
 * name of a shipped scenario (`smoke` → loadtests/scenarios/smoke.yaml);
 * AppError naming the shipped ones when it is neither.
 */
export function resolveScenarioArg(arg: string): string {
  if (existsSync(arg)) return arg;
  if (/^[A-Za-z0-9_-]+$/.test(arg)) {
    const shipped = path.join(SCENARIOS_DIR, `${arg}.yaml`);
    if (existsSync(shipped)) return shipped;
  }
  throw new AppError('NOT_FOUND', `scenario not found: ${arg}`, {
    issues: [
      { path: 'scenario', message: `no such file, nor a shipped scenario; shipped: ${shippedScenarios().join(', ')} (or a path to a scenario YAML file)` },
    ],
  });
}

function flagError(path: string, message: string): AppError {
  return new AppError('VALIDATION', 'invalid flags', { issues: [{ path, message }] });
}

export function register(program: Command): void {
  program
    .command('load')
    .description('run a load scenario (loadtests/scenarios/*.yaml) with the built-in engine or k6')
    .argument('<scenario>', 'scenario YAML file, or the name of a shipped one (smoke, checkout-mix, checkout-heavy, spike, soak, browse)')
    .addOption(new Option('--engine <engine>', 'load engine').choices(['builtin', 'k6']))
    .option('--rate <n>', 'override the rate of a constant-arrival-rate scenario (iterations per timeUnit)')
    .option('--duration <d>', 'override the duration of a constant executor (k6 syntax: 30s, 2m)')
    .option('--vus <n>', 'cap the VUs (maxVUs of an arrival-rate executor, vus of constant-vus)')
    .option(
      '--segments <n>',
      "split the load into N k6 execution segments (built-in: N worker threads; k6: N processes), one setup, one merged verdict (default: the scenario's segments, else 1)",
    )
    .option('--base-url <url>', "shop gateway URL (default: the scenario's baseUrl, else SHOP_GATEWAY_URL)")
    .option('--json <file>', 'write the full result (metrics, thresholds, seconds, history) as JSON')
    .option('--print-json', 'print the validated scenario as JSON (for k6 run -e SCENARIO=...) and exit')
    .option('--quiet', 'no live progress lines')
    .action(
      async (
        file: string,
        o: {
          engine?: 'builtin' | 'k6';
          rate?: string;
          duration?: string;
          vus?: string;
          segments?: string;
          baseUrl?: string;
          json?: string;
          printJson?: boolean;
          quiet?: boolean;
        },
      ) => {
        let segments: number | undefined;
        if (o.segments !== undefined) {
          segments = Number(o.segments);
          if (!Number.isInteger(segments) || segments < 1 || segments > 64) throw flagError('segments', `"${o.segments}" is not a whole number from 1 to 64`);
        }
        let rate: number | undefined;
        if (o.rate !== undefined) {
          rate = Number(o.rate);
          if (!Number.isInteger(rate) || rate <= 0) throw flagError('rate', `"${o.rate}" is not a positive whole number`);
        }
        let vus: number | undefined;
        if (o.vus !== undefined) {
          vus = Number(o.vus);
          if (!Number.isInteger(vus) || vus <= 0) throw flagError('vus', `"${o.vus}" is not a positive whole number`);
        }
        if (o.duration !== undefined && parseDuration(o.duration) === undefined)
          throw flagError('duration', `"${o.duration}" is not a k6 duration such as 30s or 2m`);
        if (o.baseUrl !== undefined && !URL.canParse(o.baseUrl)) throw flagError('base-url', `"${o.baseUrl}" is not a URL`);
        const scenario = withOverrides(await loadScenarioFile(resolveScenarioArg(file)), { rate, duration: o.duration, vus, baseUrl: o.baseUrl });
        if (o.printJson) {
          process.stdout.write(`${JSON.stringify(scenario, null, 2)}\n`);
          return;
        }
        const ac = new AbortController();
        const onSigint = () => {
          process.stderr.write('\n  interrupted: stopping the load (Ctrl-C again to force)\n');
          process.off('SIGINT', onSigint);
          ac.abort();
        };
        process.on('SIGINT', onSigint);
        const tty = process.stderr.isTTY;
        let n = 0;
        try {
          const result = await runLoad(scenario, {
            engine: o.engine,
            baseUrl: o.baseUrl,
            segments,
            signal: ac.signal,
            onSecond: (s) => {
              if (o.quiet) return;
              const line = progressLine(s, n++);
              process.stderr.write(tty ? `\r\x1b[2K${line}` : `${line}\n`);
            },
          });
          if (tty && !o.quiet) process.stderr.write('\n');
          process.stdout.write(formatSummary(result, { scenario: scenario.name }));
          // raw metric state is for merging, not for the file a person reads
          if (o.json) await writeFile(o.json, JSON.stringify({ ...result, raw: undefined }, null, 2));
          process.exitCode = result.exitCode;
        } catch (e) {
          // setup failures carry k6's exit status (107) rather than the generic CLI error code
          const code = isAppError(e) ? (e.details?.exitCode as number | undefined) : undefined;
          if (code === undefined) throw e;
          process.stderr.write(`faultline: ${(e as AppError).toText()}\n`);
          process.exitCode = code;
        } finally {
          process.off('SIGINT', onSigint);
        }
      },
    );
}
