/**
 * Live progress of a run in the terminal: one redrawn status line on a
 * TTY (cli-progress), one line per notable event otherwise (CI logs).
 *
 * A load line summarises every second since the previous line (CI: every
 * 5 s) or of the last 5 s (TTY): requests and errors summed, p99 the worst
 * second's — one sampled second would hide a 3 s stall between samples.
 */
import cliProgress from 'cli-progress';
import type { TStoredRunEvent } from '../workers/index.js';

export interface TProgressView {
  onEvent(e: TStoredRunEvent): void;
  stop(): void;
}

/** What a load line needs of a `load.second` event. */
export interface TProgressSecond {
  /** epoch ms, start of the second */
  t: number;
  rps: number;
  errors: number;
  p99: number;
  cp99: number;
  dropped?: number;
}

/** Several seconds of load folded into one line's figures. */
export interface TLoadInterval {
  seconds: number;
  requests: number;
  errors: number;
  /** errors / requests in percent; null without requests. */
  errorPct: number | null;
  /** Worst per-second p99 (k6-style and corrected) of the interval, ms. */
  maxP99: number;
  maxCp99: number;
  dropped: number;
}

/** Fold the seconds of an interval (pure). */
export function summariseInterval(seconds: readonly TProgressSecond[]): TLoadInterval {
  let requests = 0;
  let errors = 0;
  let maxP99 = 0;
  let maxCp99 = 0;
  let dropped = 0;
  for (const s of seconds) {
    requests += s.rps;
    errors += s.errors;
    dropped += s.dropped ?? 0;
    // a second without answers has no percentile worth comparing (0)
    if (s.rps > 0) {
      maxP99 = Math.max(maxP99, s.p99);
      maxCp99 = Math.max(maxCp99, s.cp99);
    }
  }
  return { seconds: seconds.length, requests, errors, errorPct: requests > 0 ? (100 * errors) / requests : null, maxP99, maxCp99, dropped };
}

/** `850 ms`, `5.5 s`. */
export function fmtMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** `5 s: 412 req (82/s), 3.4% errors, p99 ≤ 5.5 s (corrected 5.6 s), 12 dropped` (pure). */
export function fmtInterval(i: TLoadInterval): string {
  if (i.seconds === 0) return 'no load yet';
  const rate = Math.round((i.requests / i.seconds) * 10) / 10;
  const err = i.errorPct === null ? 'no answers' : `${i.errorPct.toFixed(1)}% errors`;
  return `${i.seconds} s: ${i.requests} req (${rate}/s), ${err}, max p99 ${fmtMs(i.maxP99)} (corrected ${fmtMs(i.maxCp99)})${i.dropped ? `, ${i.dropped} dropped` : ''}`;
}

/** Seconds between load lines in plain (CI) output. */
const PLAIN_INTERVAL_MS = 5000;
/** Seconds the TTY line looks back over. */
const TTY_WINDOW = 5;
/** Phases up to the end of the load; after them the TTY line summarises the whole load. */
const LOAD_PHASES: ReadonlySet<string> = new Set(['queued', 'steady_state', 'running']);

/** Plain text line for an event, or undefined for events not worth a line (pure). */
export function eventLine(e: TStoredRunEvent): string | undefined {
  // settling (after the load, faults removed): how long the shop took to finish in-flight work
  if ((e.type as string) === 'settle') {
    const s = e as unknown as { settled: boolean; waitedMs: number; maxMs: number; detail: string };
    return s.settled
      ? `settled in ${fmtMs(s.waitedMs)} (max ${fmtMs(s.maxMs)})`
      : `NOT settled after ${fmtMs(s.waitedMs)} (max ${fmtMs(s.maxMs)}): ${s.detail}`;
  }
  switch (e.type) {
    case 'phase':
      return `phase ${e.phase}${e.reason ? `: ${e.reason}` : ''}`;
    case 'steady_state':
      return `steady state ${e.ok ? 'ok' : 'NOT met'}: ${e.checks.map((c) => `${c.ok ? '✓' : '✗'} ${c.name} (${c.detail})`).join('; ')}`;
    case 'fault.applied':
      return `fault ${e.name} applied: ${e.fault.type} on ${Array.isArray(e.fault.target) ? e.fault.target.join(', ') : String(e.fault.target)}`;
    case 'fault.removed':
      return `fault ${e.name} removed${e.error ? ` (removal failed: ${e.error}; the reconciler retries)` : ''}`;
    case 'fault.failed':
      return `fault ${e.name} could not be applied: ${e.error}`;
    case 'abort':
      return `ABORT: ${e.reason}`;
    case 'note':
      return `${e.level}: ${e.msg}`;
    case 'verdict':
      return `verdict: ${e.verdict.toUpperCase()}${e.reason ? ` — ${e.reason}` : ''}`;
    case 'load.second':
    case 'load.segments': // the note beside it says the same in one line
      return undefined;
  }
}

export function createProgressView(opts: { name: string; expectedMs: number; out?: NodeJS.WriteStream; tty?: boolean }): TProgressView {
  const out = opts.out ?? process.stderr;
  const tty = opts.tty ?? Boolean(out.isTTY);
  const started = Date.now();
  if (!tty) {
    // a load line every 5 s keeps CI logs readable; it covers every second since the previous one
    let pending: TProgressSecond[] = [];
    let since: number | undefined;
    const flush = () => {
      if (pending.length) out.write(`[${opts.name}] load ${fmtInterval(summariseInterval(pending))}\n`);
      pending = [];
      since = undefined;
    };
    return {
      onEvent(e) {
        if (e.type === 'load.second') {
          pending.push(e.second);
          since ??= e.second.t;
          // by load time, not wall time: a backlog replayed at once still prints one line per 5 s of load
          if (e.second.t + 1000 - since >= PLAIN_INTERVAL_MS) flush();
          return;
        }
        const line = eventLine(e);
        if (!line) return;
        // the seconds before a notable event are printed before it, so the log reads in order
        flush();
        out.write(`[${opts.name}] ${line}\n`);
      },
      stop() {
        flush();
      },
    };
  }
  const bar = new cliProgress.SingleBar(
    {
      format: `${opts.name} {phase} |{bar}| {elapsed}s/{total}s  {load}  faults: {faults}`,
      barsize: 24,
      hideCursor: true,
      clearOnComplete: false,
      stream: out,
    },
    cliProgress.Presets.shades_classic,
  );
  const total = Math.max(1, Math.round(opts.expectedMs / 1000));
  const active = new Set<string>();
  let payload = { phase: 'queued', elapsed: 0, total, load: '', faults: 'none' };
  const recent: TProgressSecond[] = [];
  /** Every second of the load: once the load is over, the line summarises all of it, not its last 5 s. */
  const all: TProgressSecond[] = [];
  bar.start(total, 0, payload);
  const tick = setInterval(() => {
    payload = { ...payload, elapsed: Math.round((Date.now() - started) / 1000) };
    bar.update(Math.min(total, payload.elapsed), payload);
  }, 500);
  return {
    onEvent(e) {
      if (e.type === 'phase') {
        payload.phase = e.phase;
        if (!LOAD_PHASES.has(e.phase) && all.length) payload.load = `load done, ${fmtInterval(summariseInterval(all))}`;
      }
      if (e.type === 'fault.applied') active.add(e.name);
      if (e.type === 'fault.removed') active.delete(e.name);
      if (e.type === 'load.second') {
        recent.push(e.second);
        all.push(e.second);
        if (recent.length > TTY_WINDOW) recent.shift();
        payload.load = LOAD_PHASES.has(payload.phase) ? `last ${fmtInterval(summariseInterval(recent))}` : `load done, ${fmtInterval(summariseInterval(all))}`;
      }
      payload.faults = active.size ? [...active].join(', ') : 'none';
      bar.update(Math.min(total, Math.round((Date.now() - started) / 1000)), payload);
      const line = e.type === 'phase' || e.type === 'load.second' ? undefined : eventLine(e);
      // notable events go above the bar so they stay in the scrollback
      if (line) {
        out.write(`\r\x1b[K${line}\n`);
        bar.render();
      }
    },
    stop() {
      clearInterval(tick);
      bar.stop();
    },
  };
}
