/**
 * The log store contract (docs/architecture.md): one interface, two
 * adapters (Postgres full-text, Elasticsearch), switched by configuration.
 */
import { z } from 'zod';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
export type TLogLevel = (typeof LOG_LEVELS)[number];

export const LogRecordSchema = z.object({
  time: z.coerce.date(),
  level: z.enum(LOG_LEVELS),
  service: z.string().min(1),
  instance: z.string().min(1),
  msg: z.string(),
  requestId: z.string().optional(),
  runId: z.string().optional(),
  /** Every other field of the JSON line (breaker, route, orderId, err, ...). */
  fields: z.record(z.string(), z.unknown()).default({}),
});
export type TLogRecord = z.infer<typeof LogRecordSchema>;

/** A record as read back, with the store's id. */
export type TStoredLogRecord = TLogRecord & { id: string };

export const LogQuerySchema = z.object({
  runId: z.string().min(1).optional(),
  service: z.string().min(1).optional(),
  /** Minimum severity: `warn` returns warn, error and fatal lines. */
  level: z.enum(LOG_LEVELS).optional(),
  /** Full-text words; every word must occur (in the message or another field). */
  text: z.string().trim().min(1).optional(),
  from: z.coerce.date().optional(),
  to: z.coerce.date().optional(),
  limit: z.coerce.number().int().min(1).max(5000).default(200),
  /** Opaque cursor from a previous page's `next`. */
  cursor: z.string().min(1).optional(),
});
export type TLogQuery = z.input<typeof LogQuerySchema>;
export type TLogQueryParsed = z.infer<typeof LogQuerySchema>;

export interface TLogPage {
  /** Oldest first (time, then insertion order). */
  records: TStoredLogRecord[];
  /** Cursor of the next page; absent when this page is the last. */
  next?: string;
}

export interface LogStore {
  readonly kind: 'postgres' | 'elasticsearch';
  writeBatch(records: TLogRecord[]): Promise<{ written: number }>;
  search(query: TLogQuery): Promise<TLogPage>;
  /** Make everything written so far searchable (Elasticsearch refreshes every second otherwise; Postgres: no-op). */
  flush(): Promise<void>;
  close(): Promise<void>;
}

/** Levels at or above `min`, for "minimum severity" filters. */
export function levelsAtOrAbove(min: TLogLevel): TLogLevel[] {
  return LOG_LEVELS.slice(LOG_LEVELS.indexOf(min));
}

/** Cursor = position of the last record returned: (time ms, tie-breaker id). */
export function encodeCursor(timeMs: number, id: string): string {
  return Buffer.from(JSON.stringify([timeMs, id])).toString('base64url');
}

export function decodeCursor(cursor: string): { timeMs: number; id: string } | undefined {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    // A time both a Date and PostgreSQL can hold (1970 .. +275760) and a short id: anything else is a forged cursor, not a position.
    if (
      Array.isArray(v) &&
      v.length === 2 &&
      Number.isSafeInteger(v[0]) &&
      v[0] >= 0 &&
      v[0] <= 8.64e15 &&
      typeof v[1] === 'string' &&
      v[1].length <= 128 &&
      !v[1].includes('\u0000')
    )
      return { timeMs: v[0], id: v[1] };
  } catch {
    /* fall through: reported as a validation error by the caller */
  }
  return undefined;
}
