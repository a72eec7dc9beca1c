/**
 * Verdict stability: run a suite N times through `faultline gate` (the CLI's
 * own code path, one fresh process and shop per run) and print, per run, the
 * verdict, the failing findings and the wall time; then passes/N and the
 * median wall time. Issue 10's bar: with every bug switch off the ci suite
 * passes N of N on a quiet machine and with both cores kept busy
 * (`--cpu-hog`); with a bug switch its experiment fails N of N.
 *
 *   npm run bench:verdicts -- --suite ci --runs 5 [--bugs oversell] [--cpu-hog] [--report-dir DIR]
 *   npm run bench:verdicts -- --bugs lost-ack --runs 5     (no --suite: the shipped experiments whose `detects` names the bug)
 *
 *   for each run ─▶ spawn `faultline gate --suite S --report-dir DIR/run-<i> --quiet [--bugs B]`
 *                    └▶ read DIR/run-<i>/gate.json, and report.json of each failed experiment
 *   --cpu-hog ─▶ two busy child processes for the whole bench, each with its own
 *                deadline (they stop on their own), killed at the end or on Ctrl-C
 *
 * Exit 0 when every run gave the expected verdict (passed without --bugs,
 * failed with them), 1 otherwise, 2 on bad flags.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { EXPERIMENTS_DIR, experimentsDetecting } from '../../experiments/index.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** `--suite` left out with `--bugs`: a suite of the first shipped experiment detecting each switch. */
const DETECTORS = '<detectors>';

const FlagsSchema = z.object({
  suite: z.string().min(1, '--suite is required'),
  runs: z.coerce.number().int('--runs must be a whole number').min(1, '--runs must be >= 1').max(50, '--runs must be <= 50'),
  bugs: z.string().min(1).optional(),
  cpuHog: z.boolean(),
  reportDir: z.string().min(1).optional(),
  /** A hung gate is killed after this long (minutes). */
  timeoutMin: z.coerce.number().positive().max(120),
});

function parseFlags(argv: string[]): z.infer<typeof FlagsSchema> {
  const get = (name: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const r = FlagsSchema.safeParse({
    suite: get('suite') ?? (get('bugs') ? DETECTORS : 'ci'),
    runs: get('runs') ?? 5,
    bugs: get('bugs'),
    cpuHog: argv.includes('--cpu-hog'),
    reportDir: get('report-dir'),
    timeoutMin: get('timeout-min') ?? 30,
  });
  if (!r.success) {
    for (const i of r.error.issues) process.stderr.write(`bench:verdicts: ${i.path.join('.') || 'flags'}: ${i.message}\n`);
    process.exit(2);
  }
  return r.data;
}

/** A bare suite name is a shipped suite (experiments/suites/<name>.yaml). */
function suiteFile(s: string): string {
  if (s.includes('/') || /\.ya?ml$/.test(s)) return path.resolve(s);
  return path.join(ROOT, 'experiments', 'suites', `${s}.yaml`);
}

interface TGateJson {
  exitCode: number;
  durationMs: number;
  results: { experiment: string; state: string; reason: string | null; reportDir: string | null; durationMs: number }[];
}

/** What made one experiment fail, read from its report.json (failed invariants with their first violation, breakers, SLOs). */
function findingsOf(reportDir: string | null): string[] {
  if (!reportDir) return [];
  const file = path.join(reportDir, 'report.json');
  if (!existsSync(file)) return [];
  const r = JSON.parse(readFileSync(file, 'utf8')) as {
    invariants?: { name: string; pass: boolean; error?: string; violations: { message: string; preExisting?: boolean }[] }[];
    breakers?: { expectations?: { breaker: string; pass: boolean; message: string }[] };
    slos?: { name: string; verdict: string; objective: number; decidedBy: string; figures: { source: string; sli: number | null }[] }[];
  };
  const out: string[] = [];
  for (const i of r.invariants ?? []) {
    if (i.pass) continue;
    const own = i.violations.filter((v) => !v.preExisting);
    out.push(`${i.name} ×${own.length}${i.error ? `: ${i.error}` : own[0] ? `: ${own[0].message}` : ''}`);
  }
  for (const b of r.breakers?.expectations ?? []) if (!b.pass) out.push(`breaker ${b.breaker}: ${b.message}`);
  for (const s of r.slos ?? []) {
    if (s.verdict !== 'fail') continue;
    const sli = s.figures.find((f) => f.source === s.decidedBy)?.sli;
    out.push(`SLO ${s.name}: ${sli == null ? 'not measured' : `${sli.toFixed(1)} %`} < ${s.objective} %`);
  }
  return out;
}

/** Two busy processes (the machine's two cores) that stop on their own at `deadline` even if this process dies. */
function startHog(deadline: number): ChildProcess[] {
  const code = `const end=${deadline};let x=0;while(Date.now()<end){for(let i=0;i<1e6;i++)x+=i%7}`;
  return [0, 1].map(() => spawn(process.execPath, ['-e', code], { stdio: 'ignore' }));
}

function stopHog(hog: ChildProcess[]): void {
  for (const p of hog) if (p.exitCode === null && p.pid) p.kill('SIGKILL');
}

function runGate(args: string[], timeoutMs: number): Promise<{ code: number | null; stderrTail: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'cli', 'main.ts'), 'gate', ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => {
      err = (err + d.toString()).slice(-2000);
    });
    // SIGINT first: the gate removes its faults and stops its shop on it
    const timer = setTimeout(() => {
      child.kill('SIGINT');
      setTimeout(() => child.exitCode === null && child.kill('SIGKILL'), 30_000).unref();
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderrTail: err.trim().split('\n').slice(-3).join(' | ') });
    });
  });
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** A suite file (in `dir`) of the first shipped experiment whose `detects` names each bug, as the bug matrix test picks it. */
async function detectorSuite(bugs: string, dir: string): Promise<string> {
  const detecting = await experimentsDetecting();
  const names = bugs.split(',').map((b) => {
    const first = detecting.get(b.trim())?.[0];
    if (!first) {
      process.stderr.write(`bench:verdicts: --bugs: no shipped experiment detects ${b.trim()}\n`);
      process.exit(2);
    }
    return first;
  });
  const file = path.join(dir, 'detectors.yaml');
  const entries = [...new Set(names)].map((n) => `  - ${path.join(EXPERIMENTS_DIR, `${n}.yaml`)}`);
  writeFileSync(file, `name: detectors\ndescription: the shipped experiments detecting ${bugs}\nexperiments:\n${entries.join('\n')}\n`);
  return file;
}

const flags = parseFlags(process.argv.slice(2));
const root = flags.reportDir ? path.resolve(flags.reportDir) : mkdtempSync(path.join(os.tmpdir(), 'fl-verdicts-'));
mkdirSync(root, { recursive: true });
const suite = flags.suite === DETECTORS ? await detectorSuite(flags.bugs!, root) : suiteFile(flags.suite);
if (!existsSync(suite)) {
  process.stderr.write(`bench:verdicts: --suite: no suite file ${suite}\n`);
  process.exit(2);
}
const expectPass = !flags.bugs;
const timeoutMs = flags.timeoutMin * 60_000;
const hog = flags.cpuHog ? startHog(Date.now() + flags.runs * timeoutMs + 60_000) : [];
const onSignal = () => {
  stopHog(hog);
  process.exit(130);
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

console.log(
  `suite ${path.relative(ROOT, suite)} × ${flags.runs}${flags.bugs ? `, bugs ${flags.bugs}` : ', no bug switch'}${flags.cpuHog ? ', CPU hog (2 busy processes)' : ''}; load average ${os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}; reports in ${root}`,
);
const walls: number[] = [];
let passes = 0;
let expected = 0;
try {
  for (let i = 1; i <= flags.runs; i++) {
    const dir = path.join(root, `run-${i}`);
    const t0 = Date.now();
    const { code, stderrTail } = await runGate(['--suite', suite, '--report-dir', dir, '--quiet', ...(flags.bugs ? ['--bugs', flags.bugs] : [])], timeoutMs);
    const wall = (Date.now() - t0) / 1000;
    walls.push(wall);
    const gateFile = path.join(dir, 'gate.json');
    const gate: TGateJson | null = existsSync(gateFile) ? (JSON.parse(readFileSync(gateFile, 'utf8')) as TGateJson) : null;
    const passed = code === 0;
    if (passed) passes++;
    if (passed === expectPass && (expectPass || code === 1)) expected++;
    const verdict = code === 0 ? 'passed' : code === 1 ? 'failed' : `error (exit ${code})`;
    const per = gate ? `${gate.results.filter((r) => r.state === 'passed').length}/${gate.results.length} experiments passed` : 'no gate.json';
    console.log(`run ${i}/${flags.runs}: ${verdict}, ${per}, ${wall.toFixed(0)} s wall, load average ${os.loadavg()[0]!.toFixed(1)}`);
    for (const r of gate?.results ?? []) {
      if (r.state === 'passed') continue;
      const f = findingsOf(r.reportDir);
      console.log(`  ${r.experiment}: ${r.state} (${(r.durationMs / 1000).toFixed(0)} s)${f.length ? '' : ` ${r.reason ?? ''}`}`);
      for (const line of f) console.log(`    - ${line.slice(0, 240)}`);
    }
    if (!gate && stderrTail) console.log(`  ${stderrTail.slice(0, 400)}`);
  }
} finally {
  stopHog(hog);
}
console.log(
  `\n${passes}/${flags.runs} passed; ${expected}/${flags.runs} as expected (${expectPass ? 'pass' : 'fail'}); median wall ${median(walls).toFixed(0)} s (min ${Math.min(...walls).toFixed(0)}, max ${Math.max(...walls).toFixed(0)})`,
);
process.exitCode = expected === flags.runs ? 0 : 1;
