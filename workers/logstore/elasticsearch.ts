/**
 * Elasticsearch log store: the official client's bulk helper, an index
 * template installed once, one index per day (`<prefix>-YYYY.MM.DD`), and
 * searches over `<prefix>-*` sorted by (time, id) with `search_after` paging.
 *
 *   writeBatch ─▶ ensureTemplate (once) ─▶ helpers.bulk(create → <prefix>-<day>)
 *   search     ─▶ POST <prefix>-* _search: bool.filter[term/terms/range] + match(search)
 */
import { randomUUID } from 'node:crypto';
import { Client, type ClientOptions } from '@elastic/elasticsearch';
import { AppError } from '../../core/errors.js';
import { parseWith } from '../../core/validate.js';
import {
  LogQuerySchema,
  decodeCursor,
  encodeCursor,
  levelsAtOrAbove,
  type LogStore,
  type TLogPage,
  type TLogQuery,
  type TLogRecord,
  type TStoredLogRecord,
} from './types.js';

export interface ElasticsearchLogStoreOptions {
  /** Elasticsearch URL (ELASTICSEARCH_URL). Ignored when `client` is given. */
  node?: string;
  /** A ready client (tests pass one wired to @elastic/elasticsearch-mock). */
  client?: Client;
  /** Extra client options (auth, TLS, Connection). */
  clientOptions?: Omit<ClientOptions, 'node'>;
  /**
   * Index name prefix: daily indices are `<prefix>-YYYY.MM.DD`, the template is `<prefix>`.
   * @defaultValue 'faultline-logs'
   */
  indexPrefix?: string;
  /**
   * Refresh the written indices after each batch so they are searchable at once
   * (tests, `faultline report` right after a run); otherwise ES refreshes every second.
   * @defaultValue false
   */
  refresh?: boolean;
}

/** The document shape in Elasticsearch (also what Kibana's saved objects read). */
interface TLogDoc {
  '@timestamp': string;
  id: string;
  level: string;
  service: string;
  instance: string;
  msg: string;
  requestId?: string;
  runId?: string;
  fields: Record<string, unknown>;
  /** Message + field values, analysed for full-text search (parity with the Postgres tsvector). */
  search: string;
}

export function dailyIndex(prefix: string, time: Date): string {
  const d = time.toISOString().slice(0, 10).replace(/-/g, '.');
  return `${prefix}-${d}`;
}

/** The index template: strict keyword fields for filters, `search` analysed, `fields` kept but not indexed. */
export function indexTemplate(prefix: string): Record<string, unknown> {
  return {
    name: prefix,
    index_patterns: [`${prefix}-*`],
    template: {
      settings: { number_of_shards: 1, number_of_replicas: 0 },
      mappings: {
        dynamic: false,
        properties: {
          '@timestamp': { type: 'date' },
          id: { type: 'keyword' },
          level: { type: 'keyword' },
          service: { type: 'keyword' },
          instance: { type: 'keyword' },
          requestId: { type: 'keyword' },
          runId: { type: 'keyword' },
          msg: { type: 'text' },
          fields: { type: 'object', enabled: false },
          search: { type: 'text', analyzer: 'standard' },
        },
      },
    },
    priority: 200,
  };
}

function flattenValues(v: unknown, out: string[], depth = 0): void {
  if (depth > 4 || v === null || v === undefined) return;
  if (typeof v === 'object') {
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      out.push(k);
      flattenValues(x, out, depth + 1);
    }
  } else out.push(String(v));
}

export function toDoc(r: TLogRecord, id: string = randomUUID()): TLogDoc {
  const words: string[] = [r.msg];
  flattenValues(r.fields, words);
  return {
    '@timestamp': r.time.toISOString(),
    id,
    level: r.level,
    service: r.service,
    instance: r.instance,
    msg: r.msg,
    ...(r.requestId ? { requestId: r.requestId } : {}),
    ...(r.runId ? { runId: r.runId } : {}),
    fields: r.fields,
    search: words.join(' '),
  };
}

/** The search request body for a query (pure; asserted exactly in tests). */
export function searchBody(q: ReturnType<typeof LogQuerySchema.parse>): Record<string, unknown> {
  const filter: unknown[] = [];
  if (q.runId) filter.push({ term: { runId: q.runId } });
  if (q.service) filter.push({ term: { service: q.service } });
  if (q.level) filter.push({ terms: { level: levelsAtOrAbove(q.level) } });
  if (q.from || q.to) {
    filter.push({ range: { '@timestamp': { ...(q.from ? { gte: q.from.toISOString() } : {}), ...(q.to ? { lt: q.to.toISOString() } : {}) } } });
  }
  const must: unknown[] = q.text ? [{ match: { search: { query: q.text, operator: 'and' } } }] : [];
  let searchAfter: [number, string] | undefined;
  if (q.cursor) {
    const c = decodeCursor(q.cursor);
    if (!c) throw new AppError('VALIDATION', 'invalid log query', { issues: [{ path: 'cursor', message: 'not a cursor of this log store' }] });
    searchAfter = [c.timeMs, c.id];
  }
  return {
    size: q.limit + 1,
    query: { bool: { filter, must } },
    sort: [{ '@timestamp': { order: 'asc' } }, { id: { order: 'asc' } }],
    ...(searchAfter ? { search_after: searchAfter } : {}),
  };
}

export class ElasticsearchLogStore implements LogStore {
  readonly kind = 'elasticsearch' as const;
  readonly client: Client;
  private readonly prefix: string;
  private readonly refresh: boolean;
  private readonly ownsClient: boolean;
  private templateReady: Promise<void> | undefined;

  constructor(opts: ElasticsearchLogStoreOptions) {
    if (!opts.client && !opts.node)
      throw new AppError('VALIDATION', 'Elasticsearch log store needs a node URL', { issues: [{ path: 'ELASTICSEARCH_URL', message: 'required' }] });
    this.client = opts.client ?? new Client({ node: opts.node!, ...opts.clientOptions });
    this.ownsClient = !opts.client;
    this.prefix = opts.indexPrefix ?? 'faultline-logs';
    this.refresh = opts.refresh ?? false;
  }

  /** Install (or update) the index template once per store. */
  ensureTemplate(): Promise<void> {
    this.templateReady ??= this.client.indices
      .putIndexTemplate(indexTemplate(this.prefix) as never)
      .then(() => undefined)
      .catch((e: unknown) => {
        this.templateReady = undefined; // retry on the next write
        throw new AppError('UNAVAILABLE', `Elasticsearch: cannot install index template: ${(e as Error).message}`, { cause: e });
      });
    return this.templateReady;
  }

  async writeBatch(records: TLogRecord[]): Promise<{ written: number }> {
    if (records.length === 0) return { written: 0 };
    await this.ensureTemplate();
    const docs = records.map((r) => ({ index: dailyIndex(this.prefix, r.time), doc: toDoc(r) }));
    const dropped: string[] = [];
    const stats = await this.client.helpers.bulk<{ index: string; doc: TLogDoc }>({
      datasource: docs,
      flushBytes: 5_000_000,
      flushInterval: 0,
      concurrency: 1,
      retries: 3,
      wait: 200,
      // create: an id is never written twice, so a retried bulk cannot duplicate lines
      onDocument: (d: { index: string; doc: TLogDoc }) => [{ create: { _index: d.index, _id: d.doc.id } }, d.doc],
      onDrop: (d: { status: number; error?: { type?: string; reason?: string } }) => {
        dropped.push(`${d.status} ${d.error?.type ?? ''} ${d.error?.reason ?? ''}`.trim());
      },
      ...(this.refresh ? { refreshOnCompletion: `${this.prefix}-*` } : {}),
    } as never);
    if (dropped.length) throw new AppError('UNAVAILABLE', `Elasticsearch rejected ${dropped.length} of ${records.length} log lines: ${dropped[0]}`);
    return { written: (stats as { successful: number }).successful };
  }

  async search(query: TLogQuery): Promise<TLogPage> {
    const q = parseWith(LogQuerySchema, query, 'log query');
    const body = searchBody(q);
    let res: { hits: { hits: { _source?: TLogDoc; sort?: unknown[] }[] } };
    try {
      res = (await this.client.search({ index: `${this.prefix}-*`, ignore_unavailable: true, allow_no_indices: true, ...body } as never)) as typeof res;
    } catch (e) {
      throw new AppError('UNAVAILABLE', `Elasticsearch search failed: ${(e as Error).message}`, { cause: e });
    }
    const hits = res.hits.hits;
    const page = hits.slice(0, q.limit);
    const records: TStoredLogRecord[] = page.map((h) => {
      const s = h._source!;
      return {
        id: s.id,
        time: new Date(s['@timestamp']),
        level: s.level as TLogRecord['level'],
        service: s.service,
        instance: s.instance,
        msg: s.msg,
        ...(s.requestId ? { requestId: s.requestId } : {}),
        ...(s.runId ? { runId: s.runId } : {}),
        fields: s.fields ?? {},
      };
    });
    const last = records[records.length - 1];
    return { records, ...(hits.length > q.limit && last ? { next: encodeCursor(last.time.getTime(), last.id) } : {}) };
  }

  async flush(): Promise<void> {
    try {
      await this.client.indices.refresh({ index: `${this.prefix}-*`, ignore_unavailable: true, allow_no_indices: true });
    } catch (e) {
      throw new AppError('UNAVAILABLE', `Elasticsearch refresh failed: ${(e as Error).message}`, { cause: e });
    }
  }

  async close(): Promise<void> {
    if (this.ownsClient) await this.client.close();
  }
}
