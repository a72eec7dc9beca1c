/**
 * Run a scenario under a real k6 (K6_BIN, or `k6` on PATH) and read its
 * output into the same TLoadResult as the built-in engine.
 *
 *   scenario ─▶ tmp/scenario.json ─▶ k6 run loadtests/k6/scenario.js
 *        --out json=tmp/points.jsonl   (tailed each second ─▶ onSecond)
 *        --log-format=json stderr      (history lines ─▶ onHistory)
 *        handleSummary ─▶ tmp/summary.json ─▶ metrics + thresholds
 *   exit status: k6's own (0, 99, 105, 107, ...)
 */
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, open as openFile, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AppError } from '../../core/errors.js';
import type { TScenario } from '../scenario.js';
import type { THistoryEvent, TLoadResult, TLoadSecond } from '../types.js';
import { segmentFlags, type TSegmentSpec } from '../segments.js';
import { fromHandleSummary, K6PointsAccumulator, parseK6HistoryLine } from './parse.js';
import { K6RawBuilder } from './raw.js';

const SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'k6', 'scenario.js');

function executable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The k6 binary to use: `K6_BIN` when set (must be executable), else `k6` on PATH, else undefined. */
export function resolveK6Bin(env: Record<string, string | undefined> = process.env): string | undefined {
  if (env.K6_BIN) {
    if (!executable(env.K6_BIN)) throw new AppError('UNAVAILABLE', `K6_BIN=${env.K6_BIN} is not an executable file`);
    return env.K6_BIN;
  }
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const p = path.join(dir, 'k6');
    if (executable(p)) return p;
  }
  return undefined;
}

export interface TRunK6Options {
  bin: string;
  baseUrl: string;
  onSecond?: (s: TLoadSecond) => void;
  onHistory?: (e: THistoryEvent) => void;
  signal?: AbortSignal;
  /**
   * Script to run.
   * @defaultValue loadtests/k6/scenario.js
   */
  script?: string;
  /** Run only this execution segment (k6's --execution-segment / --execution-segment-sequence). */
  segment?: TSegmentSpec;
  /**
   * JSON file with setup data run once elsewhere: the scripts' setup() returns
   * it instead of running (env FAULTLINE_SETUP_DATA, read by loadtests/k6/lib/shop.js).
   */
  setupDataFile?: string;
  /**
   * Rebuild the full metric state from the points (result.raw) and give each
   * second its histograms, so that instances merge exactly.
   * @defaultValue false
   */
  mergeable?: boolean;
}

/** Files one k6 instance writes. */
export interface TK6Files {
  scenario: string;
  points: string;
  summary: string;
}

/**
 * The `k6 run` arguments for one instance (pure): JSON points, JSON logs
 * (history), the scenario and base URL, where handleSummary writes, the
 * segment flags, and the handed-over setup data.
 */
export function k6RunArgs(o: { files: TK6Files; baseUrl: string; script?: string; segment?: TSegmentSpec; setupDataFile?: string }): string[] {
  return [
    'run',
    '--out',
    `json=${o.files.points}`,
    '--log-format=json',
    ...(o.segment ? segmentFlags(o.segment) : []),
    '-e',
    `SCENARIO=${o.files.scenario}`,
    '-e',
    `BASE_URL=${o.baseUrl.replace(/\/$/, '')}`,
    '-e',
    `SUMMARY_PATH=${o.files.summary}`,
    '-e',
    'FAULTLINE_HISTORY=1',
    ...(o.setupDataFile ? ['-e', `FAULTLINE_SETUP_DATA=${o.setupDataFile}`] : []),
    o.script ?? SCRIPT,
  ];
}

export async function runK6(s: TScenario, opts: TRunK6Options): Promise<TLoadResult> {
  const dir = await mkdtemp(path.join(tmpdir(), 'faultline-k6-'));
  const files = { scenario: path.join(dir, 'scenario.json'), points: path.join(dir, 'points.jsonl'), summary: path.join(dir, 'summary.json') };
  const startedAt = Date.now();
  try {
    await writeFile(files.scenario, JSON.stringify(s));
    await writeFile(files.points, '');
    const args = k6RunArgs({ files, baseUrl: opts.baseUrl, script: opts.script, segment: opts.segment, setupDataFile: opts.setupDataFile });
    const child = spawn(opts.bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const onAbort = () => child.kill('SIGINT');
    opts.signal?.addEventListener('abort', onAbort, { once: true });

    const history: THistoryEvent[] = [];
    const seconds: TLoadSecond[] = [];
    const stderrTail: string[] = [];
    let pending = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        const e = parseK6HistoryLine(line);
        if (e) {
          const ev = { ...e, index: history.length } as THistoryEvent;
          history.push(ev);
          opts.onHistory?.(ev);
        } else if (line.trim()) {
          stderrTail.push(line);
          if (stderrTail.length > 20) stderrTail.shift();
        }
      }
    });
    child.stdout.resume();

    // tail the points file: read what was appended, feed complete lines, publish finished seconds
    const acc = new K6PointsAccumulator(opts.mergeable);
    const raw = opts.mergeable ? new K6RawBuilder(Object.keys(s.thresholds)) : undefined;
    const fh = await openFile(files.points, 'r');
    let offset = 0;
    let partial = '';
    const drainPoints = async (final: boolean) => {
      for (;;) {
        const buf = Buffer.alloc(1 << 20);
        const { bytesRead } = await fh.read(buf, 0, buf.length, offset);
        if (bytesRead === 0) break;
        offset += bytesRead;
        const lines = (partial + buf.subarray(0, bytesRead).toString('utf8')).split('\n');
        partial = lines.pop() ?? '';
        for (const l of lines) {
          acc.add(l);
          raw?.add(l);
        }
      }
      if (final && partial) {
        acc.add(partial);
        raw?.add(partial);
      }
      // k6 flushes every 200 ms, samples of one second can arrive late: a second is
      // taken as complete once points two seconds younger have been seen
      const latest = acc.lastSecond;
      if (!final && latest === undefined) return;
      for (const sec of acc.take(final ? undefined : latest! - 1000)) {
        seconds.push(sec);
        opts.onSecond?.(sec);
      }
    };
    let tailing = Promise.resolve();
    const tail = setInterval(() => {
      tailing = tailing.then(() => drainPoints(false)).catch(() => undefined);
    }, 1000);

    const exitCode: number = await new Promise((resolve, reject) => {
      child.on('error', (e) => reject(new AppError('UNAVAILABLE', `cannot run k6 (${opts.bin}): ${e.message}`)));
      child.on('close', (code, sig) => resolve(code ?? (sig ? 105 : 1)));
    });
    clearInterval(tail);
    opts.signal?.removeEventListener('abort', onAbort);
    await tailing;
    await drainPoints(true);
    await fh.close();

    let summaryText: string;
    try {
      summaryText = await readFile(files.summary, 'utf8');
    } catch {
      throw new AppError('UNAVAILABLE', `k6 exited with ${exitCode} without a summary`, { details: { exitCode, stderr: stderrTail.join('\n') } });
    }
    const { metrics, thresholds, durationMs } = fromHandleSummary(JSON.parse(summaryText));
    return {
      engine: 'k6',
      startedAt,
      endedAt: Date.now(),
      exitCode,
      metrics,
      thresholds,
      seconds,
      history,
      ...(exitCode === 105 ? { abortReason: 'aborted' } : {}),
      ...(raw ? { raw: raw.result(durationMs) } : {}),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
