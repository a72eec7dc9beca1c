/**
 * The supervisor's log collector: every instance's stdout/stderr lines go
 * into one in-memory ring (served by `GET /logs?after=`) and into one file
 * per instance under the log directory, so a collector that falls behind the
 * ring can still read the files.
 *
 *   child stdout ──split lines──▶ LogRing.push ──▶ ring (cursor n, n+1, …)
 *                                      └────────▶ <logDir>/<instance>.log
 */
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { createInterface } from 'node:readline';

export interface TLogLine {
  /** Monotonic position in the supervisor's log stream (1-based). */
  cursor: number;
  instance: string;
  service: string;
  /** The raw JSON log line as the instance printed it (stderr lines are wrapped into JSON). */
  line: string;
}

export interface TLogPage {
  lines: TLogLine[];
  /** Pass as `after` to get the following lines. */
  next: number;
}

/** Options of {@link LogRing}. */
export interface TLogRingOptions {
  /**
   * Lines kept in memory; older lines are only in the files.
   * @defaultValue 50_000
   */
  capacity?: number;
  /**
   * Directory for `<instance>.log` files; `null` keeps logs in memory only.
   * @defaultValue null
   */
  dir?: string | null;
}

/** A fixed-size ring of log lines with monotonically increasing cursors. */
export class LogRing {
  private readonly capacity: number;
  private readonly buf: (TLogLine | undefined)[];
  private last = 0;
  private readonly dir: string | null;
  private readonly files = new Map<string, WriteStream>();

  constructor(opts: TLogRingOptions = {}) {
    this.capacity = Math.max(1, opts.capacity ?? 50_000);
    this.buf = new Array(this.capacity);
    this.dir = opts.dir ?? null;
    if (this.dir) mkdirSync(this.dir, { recursive: true });
  }

  /** Cursor of the newest line (0 when empty). */
  get lastCursor(): number {
    return this.last;
  }

  push(instance: string, service: string, line: string): TLogLine {
    const entry: TLogLine = { cursor: ++this.last, instance, service, line };
    this.buf[entry.cursor % this.capacity] = entry;
    if (this.dir) this.fileFor(instance).write(`${line}\n`);
    return entry;
  }

  /**
   * Lines with cursor > `after`, oldest first, at most `limit`. When `after`
   * is older than the ring holds, the page starts at the oldest kept line
   * (the gap is visible as a jump in cursors).
   */
  read(after = 0, limit = 1000): TLogPage {
    const oldest = Math.max(1, this.last - this.capacity + 1);
    const from = Math.max(after + 1, oldest);
    const to = Math.min(this.last, from + Math.max(0, limit) - 1);
    const lines: TLogLine[] = [];
    for (let c = from; c <= to; c++) {
      const e = this.buf[c % this.capacity];
      if (e && e.cursor === c) lines.push(e);
    }
    // An `after` beyond the newest line (a client of a previous supervisor) maps back to the end.
    return { lines, next: lines.length ? lines[lines.length - 1].cursor : Math.min(after, this.last) };
  }

  /** Follow a child's stdout (JSON lines) and stderr (wrapped into JSON) until they end. */
  attach(instance: string, service: string, stdout: Readable | null, stderr: Readable | null): void {
    if (stdout) {
      createInterface({ input: stdout, crlfDelay: Infinity }).on('line', (l) => {
        if (l.trim() !== '') this.push(instance, service, l.trimStart().startsWith('{') ? l : wrapText(l, service, instance, 'info'));
      });
    }
    if (stderr) {
      createInterface({ input: stderr, crlfDelay: Infinity }).on('line', (l) => {
        if (l.trim() !== '') this.push(instance, service, wrapText(l, service, instance, 'warn'));
      });
    }
  }

  /** A line written by the supervisor itself about an instance (start, exit, restart). */
  note(instance: string, service: string, level: 'info' | 'warn' | 'error', msg: string, fields: Record<string, unknown> = {}): void {
    this.push(instance, service, JSON.stringify({ time: new Date().toISOString(), level, service, instance, source: 'supervisor', msg, ...fields }));
  }

  async close(): Promise<void> {
    const streams = [...this.files.values()];
    this.files.clear();
    await Promise.all(streams.map((s) => new Promise<void>((resolve) => s.end(resolve))));
  }

  private fileFor(instance: string): WriteStream {
    let s = this.files.get(instance);
    if (!s) {
      s = createWriteStream(path.join(this.dir!, `${instance.replace(/[^A-Za-z0-9_.-]/g, '_')}.log`), { flags: 'a' });
      // A full disk must not take the supervisor down; the ring still has the lines.
      s.on('error', () => undefined);
      this.files.set(instance, s);
    }
    return s;
  }
}

/**
 * Non-JSON output (a crash trace on stderr, a stray console.log) as a JSON
 * line shaped like the services' own (shop/lib/logger.ts: ISO time, level label).
 */
export function wrapText(text: string, service: string, instance: string, level: 'info' | 'warn'): string {
  return JSON.stringify({ time: new Date().toISOString(), level, service, instance, source: level === 'warn' ? 'stderr' : 'stdout', msg: text });
}
