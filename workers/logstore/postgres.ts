/**
 * Postgres log store: the `logs` table with a generated tsvector (GIN) for
 * full-text search. Used when ELASTICSEARCH_URL is unset.
 */
import { and, asc, eq, gte, inArray, lt, or, sql, type SQL } from 'drizzle-orm';
import type { TDb } from '../../db/client.js';
import { logs } from '../../db/schema/index.js';
import { AppError } from '../../core/errors.js';
import { parseWith } from '../../core/validate.js';
import { LogQuerySchema, decodeCursor, encodeCursor, levelsAtOrAbove, type LogStore, type TLogPage, type TLogQuery, type TLogRecord } from './types.js';

/** Rows per INSERT statement (keeps the bind-parameter count far below Postgres' 65535). */
const INSERT_CHUNK = 1000;

export class PostgresLogStore implements LogStore {
  readonly kind = 'postgres' as const;

  constructor(private readonly db: TDb) {}

  async writeBatch(records: TLogRecord[]): Promise<{ written: number }> {
    for (let i = 0; i < records.length; i += INSERT_CHUNK) {
      const chunk = records.slice(i, i + INSERT_CHUNK);
      await this.db.insert(logs).values(
        chunk.map((r) => ({
          time: r.time,
          level: r.level,
          service: r.service,
          instance: r.instance,
          // Postgres text cannot hold NUL; a log line may.
          msg: r.msg.replaceAll('\u0000', ''),
          requestId: r.requestId ?? null,
          runId: r.runId ?? null,
          fields: r.fields,
        })),
      );
    }
    return { written: records.length };
  }

  async search(query: TLogQuery): Promise<TLogPage> {
    const q = parseWith(LogQuerySchema, query, 'log query');
    const where: SQL[] = [];
    if (q.runId) where.push(eq(logs.runId, q.runId));
    if (q.service) where.push(eq(logs.service, q.service));
    if (q.level) where.push(inArray(logs.level, levelsAtOrAbove(q.level)));
    if (q.from) where.push(gte(logs.time, q.from));
    if (q.to) where.push(lt(logs.time, q.to));
    if (q.text) where.push(sql`${logs.search} @@ plainto_tsquery('simple'::regconfig, ${q.text})`);
    if (q.cursor) {
      const c = decodeCursor(q.cursor);
      if (!c || !/^\d{1,18}$/.test(c.id))
        throw new AppError('VALIDATION', 'invalid log query', { issues: [{ path: 'cursor', message: 'not a cursor of this log store' }] });
      const at = new Date(c.timeMs);
      where.push(or(sql`${logs.time} > ${at.toISOString()}::timestamptz`, and(eq(logs.time, at), sql`${logs.id} > ${Number(c.id)}`))!);
    }
    const rows = await this.db
      .select()
      .from(logs)
      .where(where.length ? and(...where) : undefined)
      .orderBy(asc(logs.time), asc(logs.id))
      .limit(q.limit + 1);
    const page = rows.slice(0, q.limit);
    const records = page.map((r) => ({
      id: String(r.id),
      time: r.time,
      level: r.level as TLogRecord['level'],
      service: r.service,
      instance: r.instance,
      msg: r.msg,
      ...(r.requestId ? { requestId: r.requestId } : {}),
      ...(r.runId ? { runId: r.runId } : {}),
      fields: r.fields,
    }));
    const last = records[records.length - 1];
    return { records, ...(rows.length > q.limit && last ? { next: encodeCursor(last.time.getTime(), last.id) } : {}) };
  }

  async flush(): Promise<void> {
    // committed rows are visible to the next query
  }

  async close(): Promise<void> {
    // The pool belongs to getDb() (shared by the process); nothing of our own to release.
  }
}
