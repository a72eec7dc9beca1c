/**
 * Log collector: follow the supervisor's log stream (`GET /logs?after=`),
 * turn each JSON line into a log record tagged with the run id, and write
 * batches to the LogStore.
 *
 *   poll (500 ms) ─▶ GET /logs?after=<cursor> ─▶ toLogRecord ─▶ LogStore.writeBatch
 *        ▲                                                          │
 *        └──────────── cursor advances only after a stored batch ◀──┘
 */
import type { LogStore, TLogLevel, TLogRecord } from '../logstore/index.js';
import { LOG_LEVELS } from '../logstore/index.js';
import type { SupervisorClient, TSupervisorLogLine } from './supervisor.js';
import { recordCollectorLag } from '../self-metrics.js';
import { PollLoop } from './poll-loop.js';

const PINO_LEVELS: Record<number, TLogLevel> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };

function levelOf(v: unknown): TLogLevel {
  if (typeof v === 'number') return PINO_LEVELS[v] ?? (v >= 50 ? 'error' : v >= 40 ? 'warn' : 'info');
  if (typeof v === 'string') {
    const l = v.toLowerCase();
    if ((LOG_LEVELS as readonly string[]).includes(l)) return l as TLogLevel;
    if (l === 'warning') return 'warn';
    if (l === 'critical') return 'fatal';
  }
  return 'info';
}

/**
 * One supervisor line → a record (pure). Lines that are not JSON (a stack
 * trace on stderr) are kept as the message, level `error`, so nothing is lost.
 * `runId` = the line's own runId, else `fallbackRunId`.
 */
export function toLogRecord(l: TSupervisorLogLine, fallbackRunId?: string, now: () => number = Date.now): TLogRecord {
  let obj: Record<string, unknown> | undefined;
  try {
    const v = JSON.parse(l.line) as unknown;
    if (v && typeof v === 'object' && !Array.isArray(v)) obj = v as Record<string, unknown>;
  } catch {
    /* not JSON: handled below */
  }
  if (!obj)
    return {
      time: new Date(now()),
      level: 'error',
      service: l.service,
      instance: l.instance,
      msg: l.line,
      ...(fallbackRunId ? { runId: fallbackRunId } : {}),
      fields: { raw: true },
    };
  const { time, level, service, instance, msg, requestId, runId, pid: _pid, hostname: _h, ...fields } = obj;
  const t = typeof time === 'number' ? new Date(time) : typeof time === 'string' ? new Date(time) : new Date(now());
  const rid = typeof runId === 'string' && runId ? runId : fallbackRunId;
  return {
    time: Number.isNaN(t.getTime()) ? new Date(now()) : t,
    level: levelOf(level),
    service: typeof service === 'string' && service ? service : l.service,
    instance: typeof instance === 'string' && instance ? instance : l.instance,
    msg: typeof msg === 'string' ? msg : msg === undefined ? '' : JSON.stringify(msg),
    ...(typeof requestId === 'string' && requestId ? { requestId } : {}),
    ...(rid ? { runId: rid } : {}),
    fields,
  };
}

export interface LogCollectorOptions {
  supervisor: Pick<SupervisorClient, 'logs'>;
  store: LogStore;
  /** The run whose lines are shipped; untagged lines seen during the run are tagged with it. */
  runId: string;
  /**
   * Start after this supervisor cursor (lines before the run are not shipped).
   * @defaultValue the stream's current end, read on start
   */
  after?: number;
  /**
   * Poll period.
   * @defaultValue 500
   */
  intervalMs?: number;
  /**
   * Lines per request.
   * @defaultValue 2000
   */
  pageSize?: number;
  onError?: (e: unknown) => void;
  /** Called after each stored batch (collector lag: now − newest line time). */
  onBatch?: (records: TLogRecord[]) => void;
}

export class LogCollector {
  private cursor: number | undefined;
  private readonly loop: PollLoop;
  readonly stats = { lines: 0, written: 0, otherRuns: 0, polls: 0 };

  constructor(private readonly o: LogCollectorOptions) {
    this.cursor = o.after;
    this.loop = new PollLoop(() => this.drainOnce(), o.intervalMs ?? 500, o.onError);
  }

  async start(): Promise<void> {
    if (this.cursor === undefined) this.cursor = (await this.o.supervisor.logs(Number.MAX_SAFE_INTEGER, 1)).next;
    this.loop.start();
  }

  /** Stop polling and ship everything the supervisor has up to now. */
  async stop(): Promise<void> {
    await this.loop.stop();
  }

  /** Read pages until caught up, after any read in flight (never two from the same cursor); the lines shipped. */
  drain(): Promise<number> {
    return this.loop.now<number>();
  }

  /** Read pages until caught up (bounded: at most 50 pages per call so a flood cannot starve the loop). */
  private async drainOnce(): Promise<number> {
    let shipped = 0;
    for (let i = 0; i < 50; i++) {
      this.stats.polls++;
      const page = await this.o.supervisor.logs(this.cursor ?? 0, this.o.pageSize ?? 2000);
      if (page.lines.length === 0) {
        this.cursor = Math.max(this.cursor ?? 0, page.next);
        break;
      }
      const records: TLogRecord[] = [];
      for (const l of page.lines) {
        this.stats.lines++;
        const r = toLogRecord(l, this.o.runId);
        // A line of another run (a concurrent run on another target) is not ours to ship.
        if (r.runId !== this.o.runId) {
          this.stats.otherRuns++;
          continue;
        }
        records.push(r);
      }
      if (records.length) {
        await this.o.store.writeBatch(records);
        // Lag = age of the newest line just stored.
        recordCollectorLag('logs', (Date.now() - Math.max(...records.map((r) => r.time.getTime()))) / 1000);
        this.o.onBatch?.(records);
      }
      this.stats.written += records.length;
      shipped += records.length;
      this.cursor = page.next;
      if (page.lines.length < (this.o.pageSize ?? 2000)) break;
    }
    return shipped;
  }
}
