/**
 * A target's log readers without a real Elasticsearch: the ES reader against
 * a small in-process HTTP server speaking the _search API shape (range +
 * query_string filter, sort, search_after), the file reader on a real file,
 * and the line parser. The records land in a store that keeps them.
 */
import { mkdtempSync, appendFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { LogStore, TLogRecord } from '../../logstore/index.js';
import { ElasticsearchLogReader, FileLogReader, esSearchBody, lineToRecord } from '../target-logs.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function memoryStore(): LogStore & { records: TLogRecord[] } {
  const records: TLogRecord[] = [];
  return {
    kind: 'postgres',
    records,
    writeBatch: async (r) => (records.push(...r), { written: r.length }),
    search: async () => ({ records: [] }),
    flush: async () => undefined,
    close: async () => undefined,
  };
}

const src = { service: 'bank', instance: 'app.log', idField: 'transferId' };

describe('lineToRecord', () => {
  it('reads time, level and message of a JSON line and keeps the id field; a plain line is the message', () => {
    const r = lineToRecord('{"ts":"2026-01-01T00:00:01.000Z","level":"warn","msg":"retry","transferId":"t-1","attempt":2}', src, 'run1', 0);
    expect(r).toEqual({
      time: new Date('2026-01-01T00:00:01.000Z'),
      level: 'warn',
      service: 'bank',
      instance: 'app.log',
      msg: 'retry',
      runId: 'run1',
      fields: { transferId: 't-1', attempt: 2 },
    });
    // an index's own time field is read first, before the usual ones
    const own = lineToRecord('{"created":"2026-01-01T00:00:02.000Z","ts":"2026-01-01T00:00:09.000Z","msg":"x"}', { ...src, timeField: 'created' }, 'run1', 0);
    expect(own).toMatchObject({ time: new Date('2026-01-01T00:00:02.000Z'), fields: { ts: '2026-01-01T00:00:09.000Z' } });
    const p = lineToRecord('Exception in thread main {oops', src, 'run1', 5);
    expect(p).toMatchObject({ msg: 'Exception in thread main {oops', level: 'info', time: new Date(5), runId: 'run1', fields: { raw: true } });
  });
});

describe('FileLogReader', () => {
  it('ships only the lines written after start, holds a half-written line, and reads a truncated file from its start', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'fl-h6-tail-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'app.log');
    writeFileSync(file, '{"msg":"old"}\n');
    const store = memoryStore();
    const reader = new FileLogReader(file, src, { store, runId: 'r', intervalMs: 60_000 });
    await reader.start();
    appendFileSync(file, '{"msg":"one","transferId":"a"}\nplain two\n{"msg":"thr');
    await reader.drain();
    expect(store.records.map((r) => r.msg)).toEqual(['one', 'plain two']);
    appendFileSync(file, 'ee"}\n');
    await reader.drain();
    expect(store.records.map((r) => r.msg)).toEqual(['one', 'plain two', 'three']);
    truncateSync(file, 0);
    appendFileSync(file, '{"msg":"after rotation"}\n');
    await reader.stop();
    expect(store.records.map((r) => r.msg)).toEqual(['one', 'plain two', 'three', 'after rotation']);
    // stopped: nothing more is read
    appendFileSync(file, '{"msg":"late"}\n');
    await new Promise((r) => setTimeout(r, 50));
    expect(store.records.length).toBe(4);
    expect(store.records.every((r) => r.runId === 'r')).toBe(true);
  });

  it('keeps at most maxRecords per run and counts the rest', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'fl-h6-tail-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'app.log');
    const store = memoryStore();
    const reader = new FileLogReader(file, src, { store, runId: 'r', intervalMs: 60_000, maxRecords: 3 });
    await reader.start();
    appendFileSync(file, 'a\nb\nc\nd\ne\n');
    await reader.stop();
    expect(store.records.map((r) => r.msg)).toEqual(['a', 'b', 'c']);
    expect(reader.stats.dropped).toBe(2);
  });
});

/** An in-process server answering POST /<index>/_search like Elasticsearch (the subset the reader sends). */
async function fakeSearch(docs: Record<string, unknown>[]): Promise<{ url: string; bodies: Record<string, unknown>[]; close: () => Promise<void> }> {
  const bodies: Record<string, unknown>[] = [];
  const sorted = docs.map((d, i) => ({ d, key: [Date.parse(String(d['@timestamp'])), i] as [number, number] }));
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      const send = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json', 'x-elastic-product': 'Elasticsearch' });
        res.end(JSON.stringify(body));
      };
      if (!/^\/app-logs\/_search(\?|$)/.test(req.url ?? '')) return send(404, { error: { type: 'index_not_found_exception' }, status: 404 });
      const body = JSON.parse(raw) as {
        size: number;
        search_after?: [number, number];
        query: { bool: { filter: { range?: Record<string, { gte: string }>; query_string?: { query: string } }[] } };
      };
      bodies.push(body as unknown as Record<string, unknown>);
      const range = body.query.bool.filter.find((f) => f.range)!.range!['@timestamp']!;
      const qs: string | undefined = body.query.bool.filter.find((f) => f.query_string)?.query_string?.query;
      const [field, value] = qs ? qs.split(':') : [];
      const after = body.search_after;
      const hits = sorted
        .filter(({ d, key }) => key[0] >= Date.parse(range.gte) && (!qs || String(d[field!]) === value))
        .filter(({ key }) => !after || key[0] > after[0] || (key[0] === after[0] && key[1] > after[1]))
        .slice(0, body.size)
        .map(({ d, key }, i) => ({ _index: 'app-logs', _id: String(i), _source: d, sort: key }));
      send(200, { took: 1, timed_out: false, hits: { total: { value: hits.length, relation: 'eq' }, hits } });
    });
  });
  await new Promise<void>((ok) => server.listen(19651, '127.0.0.1', ok));
  return { url: 'http://127.0.0.1:19651', bodies, close: () => new Promise((ok) => server.close(() => ok())) };
}

describe('ElasticsearchLogReader', () => {
  it('builds the window query and reads every page with search_after, then only what is new', () => {
    expect(esSearchBody({ url: 'x', index: 'i', query: 'app:bank' }, { from: Date.parse('2026-01-01T00:00:00Z') }, 2, [5, 1])).toEqual({
      size: 2,
      query: {
        bool: {
          filter: [
            { range: { '@timestamp': { gte: '2026-01-01T00:00:00.000Z', format: 'strict_date_optional_time' } } },
            { query_string: { query: 'app:bank' } },
          ],
        },
      },
      sort: [{ '@timestamp': { order: 'asc' } }, { _doc: { order: 'asc' } }],
      search_after: [5, 1],
    });
    // an index whose documents keep their time elsewhere
    const own = esSearchBody({ url: 'x', index: 'i', timeField: 'event_time' }, { from: 0, to: 1000 }, 2);
    expect(own.query).toEqual({
      bool: { filter: [{ range: { event_time: { gte: '1970-01-01T00:00:00.000Z', lte: '1970-01-01T00:00:01.000Z', format: 'strict_date_optional_time' } } }] },
    });
    expect(own.sort).toEqual([{ event_time: { order: 'asc' } }, { _doc: { order: 'asc' } }]);
  });

  it('pages through the run window of an index served over HTTP, filtered by the query', async () => {
    const from = Date.parse('2026-01-01T00:00:10Z');
    const at = (s: number) => new Date(from + s * 1000).toISOString();
    const docs = [
      { '@timestamp': at(-5), app: 'bank', message: 'before the run', transferId: 't0' },
      { '@timestamp': at(1), app: 'bank', message: 'accepted', 'log.level': 'INFO', transferId: 't1' },
      { '@timestamp': at(1), app: 'bank', message: 'accepted', 'log.level': 'INFO', transferId: 't2' },
      { '@timestamp': at(2), app: 'other', message: 'not ours', transferId: 't3' },
      { '@timestamp': at(3), app: 'bank', message: 'debit failed', 'log.level': 'ERROR', transferId: 't1' },
      { '@timestamp': at(4), app: 'bank', message: 'settled', 'log.level': 'INFO', transferId: 't2' },
    ];
    const es = await fakeSearch(docs);
    cleanups.push(es.close);
    const store = memoryStore();
    const reader = new ElasticsearchLogReader(
      { url: es.url, index: 'app-logs', query: 'app:bank' },
      { service: 'bank', instance: 'app-logs', idField: 'transferId' },
      { store, runId: 'run9', intervalMs: 60_000, pageSize: 2, from },
    );
    await reader.start();
    await reader.stop();
    expect(store.records.map((r) => [r.msg, r.level, r.fields.transferId])).toEqual([
      ['accepted', 'info', 't1'],
      ['accepted', 'info', 't2'],
      ['debit failed', 'error', 't1'],
      ['settled', 'info', 't2'],
    ]);
    expect(store.records.every((r) => r.runId === 'run9' && r.service === 'bank')).toBe(true);
    // pages of 2: the second page starts after the first's last sort values; a short page ends the poll
    const afters = es.bodies.map((b) => b.search_after ?? null);
    expect(afters.slice(0, 3)).toEqual([null, [from + 1000, 2], [from + 4000, 5]]);
    expect(es.bodies.every((b) => b.size === 2)).toBe(true);
  });
});
