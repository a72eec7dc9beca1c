/**
 * Log readers of a target file's `logs` block (docs/targets.md): a file
 * tailed from the run's start offset, or an Elasticsearch index searched for
 * the run window. Both turn what they read into log records tagged with the
 * run and write them to the platform's LogStore, like the supervisor stream's
 * collector (logs.ts), so the run page's log panel and the violation trails
 * read them the same way.
 *
 *   file:          stat ─▶ read [offset, min(size, offset + MAX_READ)) ─▶ whole lines ─▶ toTargetLogRecord ─┐
 *   elasticsearch: _search(range run window ∧ query, sort time, search_after) ─▶ hits ─▶ hitToRecord ────┴▶ LogStore.writeBatch
 *        ▲ every intervalMs until stop(); stop() reads once more, then never again
 *
 * Bounded: at most MAX_READ bytes or MAX_PAGES pages per poll, and `maxRecords` per run
 * (what is past it is counted in `stats.dropped`, never read).
 */
import { open, stat } from 'node:fs/promises';
import { Client } from '@elastic/elasticsearch';
import type { LogStore, TLogLevel, TLogRecord } from '../logstore/index.js';
import { LOG_LEVELS } from '../logstore/index.js';
import { recordCollectorLag } from '../self-metrics.js';
import { PollLoop } from './poll-loop.js';

/** Bytes read from a file per poll (a flood is read over several polls, never at once). */
const MAX_READ = 4 * 1024 * 1024;
/** A line longer than this is cut (a binary file must not grow the pending buffer without end). */
const MAX_LINE = 64 * 1024;
/** Elasticsearch pages per poll. */
const MAX_PAGES = 20;

const NUMERIC_LEVELS: Record<number, TLogLevel> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };

function levelOf(v: unknown): TLogLevel {
  if (typeof v === 'number') return NUMERIC_LEVELS[v] ?? (v >= 50 ? 'error' : v >= 40 ? 'warn' : 'info');
  if (typeof v === 'string') {
    const l = v.toLowerCase();
    if ((LOG_LEVELS as readonly string[]).includes(l)) return l as TLogLevel;
    if (l === 'warning') return 'warn';
    if (l === 'critical' || l === 'panic') return 'fatal';
    if (l === 'err') return 'error';
  }
  return 'info';
}

/** Where the line's time, message and level usually are (pino, bunyan, logback JSON, ECS). */
const TIME_KEYS = ['time', 'ts', '@timestamp', 'timestamp'] as const;
const MSG_KEYS = ['msg', 'message'] as const;
const LEVEL_KEYS = ['level', 'severity', 'log.level'] as const;

export interface TTargetLogSource {
  /** The target's name: the records' service unless a line names its own. */
  service: string;
  /** The records' instance (the file's name, the index). */
  instance: string;
  /** The field that carries the request or entity id (kept in `fields`; `requestId` also goes to the record's requestId). */
  idField: string;
  /** The time field to read first (an Elasticsearch index's `time_field`); then the usual ones. */
  timeField?: string;
}

/**
 * One JSON object (a JSON line, an Elasticsearch document) → a record tagged with `runId` (pure).
 * Every key that is not the time, level, message, service or instance stays in `fields`, the id field included.
 */
export function objectToRecord(obj: Record<string, unknown>, src: TTargetLogSource, runId: string, now: number): TLogRecord {
  const pick = (keys: readonly string[]) => keys.find((k) => obj[k] !== undefined && obj[k] !== null);
  const tk = pick(src.timeField ? [src.timeField, ...TIME_KEYS] : TIME_KEYS);
  const mk = pick(MSG_KEYS);
  const lk = pick(LEVEL_KEYS);
  const t = tk ? new Date(typeof obj[tk] === 'number' ? (obj[tk] as number) : String(obj[tk])) : new Date(now);
  const msg = mk ? obj[mk] : undefined;
  const fields: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) if (k !== tk && k !== mk && k !== lk && k !== 'service' && k !== 'instance' && k !== 'runId') fields[k] = v;
  const requestId = obj.requestId;
  return {
    time: Number.isNaN(t.getTime()) ? new Date(now) : t,
    level: levelOf(lk ? obj[lk] : undefined),
    service: typeof obj.service === 'string' && obj.service ? obj.service : src.service,
    instance: typeof obj.instance === 'string' && obj.instance ? obj.instance : src.instance,
    msg: typeof msg === 'string' ? msg : msg === undefined ? '' : JSON.stringify(msg),
    ...(typeof requestId === 'string' && requestId ? { requestId } : {}),
    runId,
    fields,
  };
}

/** One line of a log file → a record (pure): a JSON object line by its fields, any other line as the message. */
export function lineToRecord(line: string, src: TTargetLogSource, runId: string, now: number): TLogRecord {
  const s = line.length > MAX_LINE ? line.slice(0, MAX_LINE) : line;
  if (s.trimStart().startsWith('{')) {
    try {
      const v = JSON.parse(s) as unknown;
      if (v && typeof v === 'object' && !Array.isArray(v)) return objectToRecord(v as Record<string, unknown>, src, runId, now);
    } catch {
      /* a plain line that starts with a brace */
    }
  }
  return { time: new Date(now), level: 'info', service: src.service, instance: src.instance, msg: s, runId, fields: { raw: true } };
}

export interface TTargetLogReaderOptions {
  store: LogStore;
  runId: string;
  /**
   * Poll period.
   * @defaultValue 500
   */
  intervalMs?: number;
  /**
   * Records shipped per run at most; the rest is counted in `stats.dropped` and not read.
   * @defaultValue 200000
   */
  maxRecords?: number;
  onError?: (e: unknown) => void;
  /** Called after each stored batch. */
  onBatch?: (records: TLogRecord[]) => void;
}

/** The poll loop both readers share: one read at a time, `stop()` waits for it and reads once more. */
abstract class PollingReader {
  private readonly loop: PollLoop;
  readonly stats = { read: 0, written: 0, dropped: 0, polls: 0 };

  constructor(protected readonly o: TTargetLogReaderOptions) {
    this.loop = new PollLoop(() => this.drainOnce(), o.intervalMs ?? 500, o.onError);
  }

  /** Where the run starts (a file's size now); called once before the first poll. */
  protected abstract begin(): Promise<void>;
  /** Read what is new; returns its records (already bounded per poll). */
  protected abstract poll(): Promise<TLogRecord[]>;

  async start(): Promise<void> {
    await this.begin();
    this.loop.start();
  }

  /** Stop polling and ship what arrived up to now; nothing is read after it resolves. */
  async stop(): Promise<void> {
    await this.loop.stop();
  }

  /** One poll now (after any poll in flight: never two reading the same range); the records kept. */
  drain(): Promise<number> {
    return this.loop.now<number>();
  }

  /** One poll: read, store, count. */
  private async drainOnce(): Promise<number> {
    this.stats.polls++;
    const max = this.o.maxRecords ?? 200_000;
    const records = await this.poll();
    this.stats.read += records.length;
    const room = Math.max(0, max - this.stats.written);
    const kept = records.slice(0, room);
    this.stats.dropped += records.length - kept.length;
    if (kept.length) {
      await this.o.store.writeBatch(kept);
      this.stats.written += kept.length;
      recordCollectorLag('logs', (Date.now() - Math.max(...kept.map((r) => r.time.getTime()))) / 1000);
      this.o.onBatch?.(kept);
    }
    return kept.length;
  }

  protected get full(): boolean {
    return this.stats.written >= (this.o.maxRecords ?? 200_000);
  }
}

/** Tails a JSON-lines or plain-text file from its size at `start()`; a truncated file is read again from its start. */
export class FileLogReader extends PollingReader {
  private offset = 0;
  private pending = '';

  constructor(
    private readonly path: string,
    private readonly src: TTargetLogSource,
    o: TTargetLogReaderOptions,
  ) {
    super(o);
  }

  protected async begin(): Promise<void> {
    // a file that is not there yet is read from its first byte once it appears
    this.offset = await stat(this.path).then(
      (s) => s.size,
      () => 0,
    );
  }

  protected async poll(): Promise<TLogRecord[]> {
    if (this.full) return [];
    const size = await stat(this.path).then(
      (s) => s.size,
      () => -1,
    );
    if (size < 0) return [];
    if (size < this.offset) {
      // truncated or replaced (rotation): its lines are new
      this.offset = 0;
      this.pending = '';
    }
    if (size === this.offset) return [];
    const len = Math.min(size - this.offset, MAX_READ);
    const fh = await open(this.path, 'r');
    let text: string;
    try {
      const buf = Buffer.alloc(len);
      const { bytesRead } = await fh.read(buf, 0, len, this.offset);
      this.offset += bytesRead;
      text = this.pending + buf.subarray(0, bytesRead).toString('utf8');
    } finally {
      await fh.close();
    }
    const parts = text.split('\n');
    // the last part is a line still being written: kept for the next poll
    this.pending = parts.pop() ?? '';
    if (this.pending.length > MAX_LINE) {
      parts.push(this.pending);
      this.pending = '';
    }
    const now = Date.now();
    return parts
      .map((l) => l.replace(/\r$/, ''))
      .filter((l) => l.trim() !== '')
      .map((l) => lineToRecord(l, this.src, this.o.runId, now));
  }
}

export interface TEsSource {
  url: string;
  index: string;
  /** A query_string query (Lucene syntax); absent: every document of the window. */
  query?: string;
  /**
   * The documents' time field.
   * @defaultValue '@timestamp'
   */
  timeField?: string;
}

/** The _search body for one page of the window (pure): the time range and the query, sorted by time, after `after`. */
export function esSearchBody(s: TEsSource, window: { from: number; to?: number }, size: number, after?: unknown[]): Record<string, unknown> {
  const tf = s.timeField ?? '@timestamp';
  const range: Record<string, unknown> = { gte: new Date(window.from).toISOString(), format: 'strict_date_optional_time' };
  if (window.to !== undefined) range.lte = new Date(window.to).toISOString();
  const filter: unknown[] = [{ range: { [tf]: range } }];
  if (s.query) filter.push({ query_string: { query: s.query } });
  return {
    size,
    query: { bool: { filter } },
    // _doc breaks ties between documents of the same millisecond within the index
    sort: [{ [tf]: { order: 'asc' } }, { _doc: { order: 'asc' } }],
    ...(after ? { search_after: after } : {}),
  };
}

/** Searches an index for the run window (from `start()` to `stop()`), page by page with search_after. */
export class ElasticsearchLogReader extends PollingReader {
  readonly client: Client;
  private after: unknown[] | undefined;
  private from = 0;

  constructor(
    private readonly es: TEsSource,
    private readonly src: TTargetLogSource,
    o: TTargetLogReaderOptions & {
      /**
       * Documents per page.
       * @defaultValue 500
       */
      pageSize?: number;
      /** The window's start (epoch ms). @defaultValue the time of `start()` */
      from?: number;
      /** A ready client (tests). */
      client?: Client;
    },
  ) {
    super(o);
    this.client = o.client ?? new Client({ node: es.url, requestTimeout: 10_000 });
    this.from = o.from ?? 0;
  }

  private get pageSize(): number {
    return (this.o as { pageSize?: number }).pageSize ?? 500;
  }

  protected async begin(): Promise<void> {
    if (!this.from) this.from = Date.now();
  }

  protected async poll(): Promise<TLogRecord[]> {
    const out: TLogRecord[] = [];
    for (let i = 0; i < MAX_PAGES && !this.full; i++) {
      const body = esSearchBody(this.es, { from: this.from }, this.pageSize, this.after);
      const res = (await this.client.search({ index: this.es.index, ignore_unavailable: true, ...body } as never)) as unknown as {
        hits: { hits: { _id?: string; _source?: Record<string, unknown>; sort?: unknown[] }[] };
      };
      const hits = res.hits?.hits ?? [];
      const now = Date.now();
      for (const h of hits) out.push(objectToRecord(h._source ?? {}, this.src, this.o.runId, now));
      const last = hits[hits.length - 1];
      if (last?.sort) this.after = last.sort;
      if (hits.length < this.pageSize) break;
    }
    return out;
  }

  override async stop(): Promise<void> {
    await super.stop();
    await this.client.close().catch(() => undefined);
  }
}
