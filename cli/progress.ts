/**
 * Live progress of a run in the terminal: one redrawn status line on a
 * TTY (cli-progress), one line per notable event otherwise (CI logs).
 */
import cliProgress from 'cli-progress';
import type { TStoredRunEvent } from '../workers/index.js';

export interface TProgressView {
  onEvent(e: TStoredRunEvent): void;
  stop(): void;
}

function fmtSecond(s: { rps: number; errors: number; p99: number; cp99: number }): string {
  const errPct = s.rps > 0 ? (100 * s.errors) / s.rps : 0;
  return `${s.rps} rps, ${errPct.toFixed(1)}% errors, p99 ${Math.round(s.p99)} ms (corrected ${Math.round(s.cp99)} ms)`;
}

/** Plain text line for an event, or undefined for events not worth a line (pure). */
export function eventLine(e: TStoredRunEvent): string | undefined {
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
      return undefined;
  }
}

export function createProgressView(opts: { name: string; expectedMs: number; out?: NodeJS.WriteStream; tty?: boolean }): TProgressView {
  const out = opts.out ?? process.stderr;
  const tty = opts.tty ?? Boolean(out.isTTY);
  const started = Date.now();
  let lastPrinted = 0;
  if (!tty) {
    return {
      onEvent(e) {
        const line = eventLine(e);
        if (line) out.write(`[${opts.name}] ${line}\n`);
        // a load line every 5 s keeps CI logs readable
        else if (e.type === 'load.second' && Date.now() - lastPrinted >= 5000) {
          lastPrinted = Date.now();
          out.write(`[${opts.name}] load: ${fmtSecond(e.second)}\n`);
        }
      },
      stop() {},
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
  bar.start(total, 0, payload);
  const tick = setInterval(() => {
    payload = { ...payload, elapsed: Math.round((Date.now() - started) / 1000) };
    bar.update(Math.min(total, payload.elapsed), payload);
  }, 500);
  return {
    onEvent(e) {
      if (e.type === 'phase') payload.phase = e.phase;
      if (e.type === 'fault.applied') active.add(e.name);
      if (e.type === 'fault.removed') active.delete(e.name);
      if (e.type === 'load.second') payload.load = fmtSecond(e.second);
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
