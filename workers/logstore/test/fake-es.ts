/**
 * An in-memory Elasticsearch behind @elastic/elasticsearch-mock, so the same
 * contract suite runs against the ES adapter: it records every request (for
 * exact-request assertions) and evaluates the subset of the query DSL the
 * adapter sends (bool.filter term/terms/range, match with operator and,
 * sort + search_after). A request outside that subset fails the test.
 */
import Mock from '@elastic/elasticsearch-mock';
import { Client } from '@elastic/elasticsearch';

export interface TRecordedRequest {
  method: string;
  path: string;
  querystring: Record<string, unknown>;
  body: unknown;
}

type Doc = Record<string, unknown> & { '@timestamp': string; id: string };

function tokens(s: string): string[] {
  return s
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean);
}

function globToRe(pattern: string): RegExp {
  return new RegExp(
    `^(${pattern
      .split(',')
      .map((p) => p.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*'))
      .join('|')})$`,
  );
}

function matchClause(doc: Doc, clause: Record<string, unknown>): boolean {
  const [kind, arg] = Object.entries(clause)[0] as [string, Record<string, unknown>];
  const [field, v] = Object.entries(arg)[0] as [string, unknown];
  switch (kind) {
    case 'term':
      return doc[field] === v;
    case 'terms':
      return (v as unknown[]).includes(doc[field]);
    case 'range': {
      const r = v as { gte?: string; lt?: string };
      const t = Date.parse(String(doc[field]));
      return (r.gte === undefined || t >= Date.parse(r.gte)) && (r.lt === undefined || t < Date.parse(r.lt));
    }
    case 'match': {
      const m = v as { query: string; operator: string };
      if (m.operator !== 'and') throw new Error(`fake ES: unsupported match operator ${m.operator}`);
      const have = new Set(tokens(String(doc[field] ?? '')));
      return tokens(m.query).every((w) => have.has(w));
    }
    default:
      throw new Error(`fake ES: unsupported query clause ${kind}`);
  }
}

export function createFakeElasticsearch(opts: { reject?: (doc: Doc) => boolean } = {}): {
  client: Client;
  requests: TRecordedRequest[];
  indices: Map<string, Map<string, Doc>>;
  templates: Map<string, unknown>;
} {
  const mock = new Mock();
  const requests: TRecordedRequest[] = [];
  const indices = new Map<string, Map<string, Doc>>();
  const templates = new Map<string, unknown>();
  const rec = (p: { method: string; path: string; querystring?: Record<string, unknown>; body?: unknown }) =>
    requests.push({ method: p.method, path: p.path, querystring: p.querystring ?? {}, body: p.body });

  mock.add({ method: 'PUT', path: '/_index_template/:name' }, (p: any) => {
    const params = p as { path: string; body: unknown };
    rec(params as never);
    templates.set(params.path.split('/').pop()!, params.body);
    return { acknowledged: true };
  });

  mock.add({ method: ['POST', 'PUT'], path: '/_bulk' }, (p: any) => {
    const params = p as { body: Record<string, unknown>[] };
    rec(params as never);
    const items: unknown[] = [];
    let errors = false;
    for (let i = 0; i < params.body.length; i += 2) {
      const action = params.body[i] as { create?: { _index: string; _id: string } };
      if (!action.create) throw new Error('fake ES: only create actions are expected');
      const { _index, _id } = action.create;
      let idx = indices.get(_index);
      if (!idx) indices.set(_index, (idx = new Map()));
      if (opts.reject?.(params.body[i + 1] as Doc)) {
        errors = true;
        items.push({ create: { _index, _id, status: 400, error: { type: 'mapper_parsing_exception', reason: 'failed to parse' } } });
      } else if (idx.has(_id)) {
        errors = true;
        items.push({ create: { _index, _id, status: 409, error: { type: 'version_conflict_engine_exception', reason: 'document already exists' } } });
      } else {
        idx.set(_id, params.body[i + 1] as Doc);
        items.push({ create: { _index, _id, status: 201, result: 'created' } });
      }
    }
    return { took: 1, errors, items };
  });

  mock.add({ method: ['POST', 'GET'], path: '/:index/_refresh' }, (p: any) => {
    rec(p);
    return { _shards: { total: 1, successful: 1, failed: 0 } };
  });

  mock.add({ method: ['POST', 'GET'], path: '/:index/_search' }, (p: any) => {
    const params = p as {
      path: string;
      body: {
        size: number;
        query: { bool: { filter: Record<string, unknown>[]; must: Record<string, unknown>[] } };
        sort: unknown[];
        search_after?: [number, string];
      };
    };
    rec(params as never);
    const re = globToRe(decodeURIComponent(params.path.split('/')[1]!));
    const all: Doc[] = [];
    for (const [name, idx] of indices) if (re.test(name)) all.push(...idx.values());
    const { filter, must } = params.body.query.bool;
    let hits = all.filter((d) => filter.every((c) => matchClause(d, c)) && must.every((c) => matchClause(d, c)));
    const key = (d: Doc): [number, string] => [Date.parse(d['@timestamp']), d.id];
    hits.sort((a, b) => key(a)[0] - key(b)[0] || (key(a)[1] < key(b)[1] ? -1 : key(a)[1] > key(b)[1] ? 1 : 0));
    const after = params.body.search_after;
    if (after) hits = hits.filter((d) => key(d)[0] > after[0] || (key(d)[0] === after[0] && key(d)[1] > after[1]));
    hits = hits.slice(0, params.body.size);
    return {
      took: 1,
      timed_out: false,
      hits: { total: { value: hits.length, relation: 'eq' }, hits: hits.map((d) => ({ _index: 'x', _id: d.id, _source: d, sort: key(d) })) },
    };
  });

  const client = new Client({ node: 'http://127.0.0.1:9200', Connection: mock.getConnection() });
  return { client, requests, indices, templates };
}
