import { describe, expect, it } from 'vitest';
import { ElasticsearchLogStore, indexTemplate } from '../elasticsearch.js';
import { logStoreContract } from './contract.js';
import { createFakeElasticsearch } from './fake-es.js';

logStoreContract('elasticsearch (mock)', async () => {
  const es = createFakeElasticsearch();
  return { store: new ElasticsearchLogStore({ client: es.client, indexPrefix: 'fl-test', refresh: true }), teardown: async () => {} };
});

describe('Elasticsearch adapter: exact requests', () => {
  it('installs the template once, bulk-creates into one index per day, refreshes', async () => {
    const es = createFakeElasticsearch();
    const store = new ElasticsearchLogStore({ client: es.client, indexPrefix: 'fl-x', refresh: true });
    const day1 = new Date('2026-11-23T23:59:59.900Z');
    const day2 = new Date('2026-11-24T00:00:00.100Z');
    await store.writeBatch([
      { time: day1, level: 'info', service: 'orders', instance: 'orders-0', msg: 'a', runId: 'r1', fields: { k: 'v' } },
      { time: day2, level: 'warn', service: 'orders', instance: 'orders-0', msg: 'b', fields: {} },
    ]);
    await store.writeBatch([{ time: day2, level: 'info', service: 'users', instance: 'users-0', msg: 'c', fields: {} }]);

    const templ = es.requests.filter((r) => r.path.startsWith('/_index_template'));
    expect(templ).toHaveLength(1);
    expect(templ[0]).toMatchObject({ method: 'PUT', path: '/_index_template/fl-x' });
    const { name: _n, ...templateBody } = indexTemplate('fl-x');
    expect(templ[0]!.body).toEqual(templateBody);

    const bulks = es.requests.filter((r) => r.path === '/_bulk');
    expect(bulks).toHaveLength(2);
    const lines = bulks[0]!.body as Record<string, any>[];
    expect(lines).toHaveLength(4);
    expect(lines[0]).toEqual({ create: { _index: 'fl-x-2026.11.23', _id: lines[1]!.id } });
    expect(lines[1]).toEqual({
      '@timestamp': day1.toISOString(),
      id: lines[1]!.id,
      level: 'info',
      service: 'orders',
      instance: 'orders-0',
      msg: 'a',
      runId: 'r1',
      fields: { k: 'v' },
      search: 'a k v',
    });
    expect(lines[2]).toEqual({ create: { _index: 'fl-x-2026.11.24', _id: lines[3]!.id } });
    expect([...es.indices.keys()].sort()).toEqual(['fl-x-2026.11.23', 'fl-x-2026.11.24']);
    expect(es.requests.filter((r) => r.path.endsWith('/_refresh')).map((r) => r.path)).toEqual(['/fl-x-*/_refresh', '/fl-x-*/_refresh']);
  });

  it('sends one search over the daily pattern with filters, match and search_after', async () => {
    const es = createFakeElasticsearch();
    const store = new ElasticsearchLogStore({ client: es.client, indexPrefix: 'fl-y' });
    const first = await store.search({
      runId: 'r9',
      service: 'payments',
      level: 'error',
      text: 'timeout',
      from: new Date('2026-11-23T10:00:00Z'),
      to: new Date('2026-11-23T11:00:00Z'),
      limit: 2,
    });
    expect(first.records).toEqual([]);
    const req = es.requests.at(-1)!;
    expect(req.method).toBe('POST');
    expect(req.path).toBe('/fl-y-*/_search');
    expect(req.querystring).toEqual({ ignore_unavailable: 'true', allow_no_indices: 'true' });
    expect(req.body).toEqual({
      size: 3,
      query: {
        bool: {
          filter: [
            { term: { runId: 'r9' } },
            { term: { service: 'payments' } },
            { terms: { level: ['error', 'fatal'] } },
            { range: { '@timestamp': { gte: '2026-11-23T10:00:00.000Z', lt: '2026-11-23T11:00:00.000Z' } } },
          ],
          must: [{ match: { search: { query: 'timeout', operator: 'and' } } }],
        },
      },
      sort: [{ '@timestamp': { order: 'asc' } }, { id: { order: 'asc' } }],
    });
  });

  it('flush refreshes the daily indices so the last lines of a run are searchable at once', async () => {
    const es = createFakeElasticsearch();
    const store = new ElasticsearchLogStore({ client: es.client, indexPrefix: 'fl-f' });
    await store.flush();
    expect(es.requests.at(-1)).toMatchObject({
      method: 'GET',
      path: '/fl-f-*/_refresh',
      querystring: { ignore_unavailable: 'true', allow_no_indices: 'true' },
    });
  });

  it('reports rejected documents instead of losing them silently', async () => {
    const es = createFakeElasticsearch({ reject: (d) => d.msg === 'unparseable' });
    const store = new ElasticsearchLogStore({ client: es.client, indexPrefix: 'fl-z' });
    const base = { time: new Date('2026-11-23T10:00:00Z'), level: 'info' as const, service: 's', instance: 's-0', fields: {} };
    await expect(
      store.writeBatch([
        { ...base, msg: 'fine' },
        { ...base, msg: 'unparseable' },
      ]),
    ).rejects.toMatchObject({
      code: 'UNAVAILABLE',
      message: expect.stringContaining('rejected 1 of 2'),
    });
    expect([...es.indices.get('fl-z-2026.11.23')!.values()].map((d) => d.msg)).toEqual(['fine']);
  });
});
