/**
 * The Toxiproxy 2.12 HTTP API on node:http, byte for byte where clients can
 * see it: gorilla/mux routing (404 `404 page not found`, 405 with an empty
 * body, middleware only on matched routes), the `Mozilla/` User-Agent block,
 * `X-Toxiproxy-Request-Id`, Go's `http.Error` (text/plain, trailing newline)
 * for every error, and Go's JSON encoding for every answer.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ProxyCollection, proxyJson, toxicJson } from './collection.js';
import { goSortedKeys, goStringify } from './gojson.js';
import type { TMetricsEndpoint } from './metrics.js';
import { ProxyApiError } from './proxy.js';

export const TOXIPROXY_VERSION = '2.12.0';

interface TReply {
  status: number;
  contentType?: string;
  body?: string;
  /** Go `http.Error`: text/plain + nosniff, body + "\n". */
  goError?: boolean;
}

type THandler = (c: ProxyCollection, vars: string[], body: string) => Promise<TReply> | TReply;

const json = (status: number, value: unknown): TReply => ({ status, contentType: 'application/json', body: goStringify(value) });

const ROUTES: { re: RegExp; methods: Record<string, THandler> }[] = [
  {
    re: /^\/reset$/,
    methods: {
      POST: async (c) => {
        await c.reset();
        return { status: 204 };
      },
    },
  },
  {
    re: /^\/proxies$/,
    methods: {
      GET: (c) => {
        const all = c.list();
        // Go encodes a map with its keys sorted
        const parts = goSortedKeys(all.keys()).map((k) => `${goStringify(k)}:${goStringify(proxyJson(all.get(k)!))}`);
        return { status: 200, contentType: 'application/json', body: `{${parts.join(',')}}` };
      },
      POST: async (c, _v, body) => json(201, proxyJson(await c.create(body))),
    },
  },
  {
    re: /^\/populate$/,
    methods: {
      POST: async (c, _v, body) => {
        const r = await c.populate(body);
        const proxies = r.proxies.length ? r.proxies.map(proxyJson) : null;
        if (r.error) return json(r.error.status, { error: r.error.message, status: r.error.status, proxies });
        return json(201, { proxies });
      },
    },
  },
  {
    re: /^\/proxies\/([^/]+)$/,
    methods: {
      GET: (c, [p]) => json(200, proxyJson(c.get(p))),
      POST: async (c, [p], body) => json(200, proxyJson(await c.update(p, body))),
      PATCH: async (c, [p], body) => json(200, proxyJson(await c.update(p, body))),
      DELETE: async (c, [p]) => {
        await c.remove(p);
        return { status: 204 };
      },
    },
  },
  {
    re: /^\/proxies\/([^/]+)\/toxics$/,
    methods: {
      GET: (c, [p]) => json(200, c.get(p).toxics().map(toxicJson)),
      POST: (c, [p], body) => json(200, toxicJson(c.addToxic(p, body))),
    },
  },
  {
    re: /^\/proxies\/([^/]+)\/toxics\/([^/]+)$/,
    methods: {
      GET: (c, [p, t]) => {
        const toxic = c.get(p).findToxic(t);
        if (!toxic) throw new ProxyApiError('toxic not found', 404);
        return json(200, toxicJson(toxic));
      },
      POST: (c, [p, t], body) => json(200, toxicJson(c.updateToxic(p, t, body))),
      PATCH: (c, [p, t], body) => json(200, toxicJson(c.updateToxic(p, t, body))),
      DELETE: (c, [p, t]) => {
        c.removeToxic(p, t);
        return { status: 204 };
      },
    },
  },
  {
    re: /^\/version$/,
    methods: {
      GET: () => ({ status: 200, contentType: 'application/json;charset=utf-8', body: `{"version": "${TOXIPROXY_VERSION}"}\n` }),
    },
  },
];

/** Request ids in the shape of rs/xid (20 chars of base32hex), as hlog.RequestIDHandler sets them. */
const XID_ALPHABET = '0123456789abcdefghijklmnopqrstuv';
const xidMachine = randomBytes(3);
let xidCounter = randomBytes(3).readUIntBE(0, 3);
function newRequestId(): string {
  const b = Buffer.alloc(12);
  b.writeUInt32BE(Math.floor(Date.now() / 1000), 0);
  xidMachine.copy(b, 4);
  b.writeUInt16BE(process.pid & 0xffff, 7);
  xidCounter = (xidCounter + 1) & 0xffffff;
  b.writeUIntBE(xidCounter, 9, 3);
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of b) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += XID_ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += XID_ALPHABET[(value << (5 - bits)) & 31];
  return out;
}

function send(res: ServerResponse, r: TReply): void {
  if (r.goError) {
    res.setHeader('Content-Type', 'text/plain; charset=utf-8');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.statusCode = r.status;
    res.end(`${r.body ?? ''}\n`);
    return;
  }
  res.statusCode = r.status;
  if (r.contentType) res.setHeader('Content-Type', r.contentType);
  res.end(r.body ?? '');
}

/** Bodies are a few hundred bytes; a cap keeps a runaway client from exhausting memory. */
const MAX_BODY = 16 << 20;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    req.on('data', (b: Buffer) => {
      size += b.length;
      // past the cap the rest is read and dropped, so the 400 can still be answered
      if (size > MAX_BODY) {
        if (size - b.length <= MAX_BODY) reject(new ProxyApiError('bad request body: http: request body too large', 400));
        return;
      }
      parts.push(b);
    });
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
  });
}

/** The request listener of the API server. */
export function apiHandler(collection: ProxyCollection, metrics: TMetricsEndpoint | null = null): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    void handle(collection, metrics, req, res).catch((e: unknown) => {
      // Only reachable on a bug: answer like Go's apiError for an untyped error, never a stack trace.
      if (!res.headersSent) send(res, { status: 500, goError: true, body: goStringify({ error: String((e as Error)?.message ?? e), status: 500 }) });
      else res.destroy();
    });
  };
}

async function handle(collection: ProxyCollection, metrics: TMetricsEndpoint | null, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const rawPath = (req.url ?? '/').split('?')[0];
  let path: string;
  try {
    path = decodeURIComponent(rawPath);
  } catch {
    send(res, { status: 400, contentType: 'text/plain; charset=utf-8', body: '400 Bad Request' });
    return;
  }
  let route: (typeof ROUTES)[number] | undefined;
  let m: RegExpExecArray | null = null;
  for (const r of ROUTES) {
    m = r.re.exec(path);
    if (m) {
      route = r;
      break;
    }
  }
  if (path === '/metrics' && metrics) {
    // registered without a method restriction, behind the same middleware
    res.setHeader('X-Toxiproxy-Request-Id', newRequestId());
    if ((req.headers['user-agent'] ?? '').startsWith('Mozilla/')) {
      send(res, { status: 403, goError: true, body: 'User agent not allowed' });
      return;
    }
    send(res, { status: 200, contentType: metrics.contentType, body: await metrics.render() });
    return;
  }
  if (!route || !m) {
    send(res, { status: 404, goError: true, body: '404 page not found' });
    return;
  }
  const handler = route.methods[req.method ?? 'GET'];
  if (!handler) {
    res.statusCode = 405;
    res.end();
    return;
  }
  // matched route: the middleware chain runs (request id, browser block)
  res.setHeader('X-Toxiproxy-Request-Id', newRequestId());
  if ((req.headers['user-agent'] ?? '').startsWith('Mozilla/')) {
    send(res, { status: 403, goError: true, body: 'User agent not allowed' });
    return;
  }
  const vars = m.slice(1);
  try {
    const body = await readBody(req);
    send(res, await collection.serial(() => handler(collection, vars, body)));
  } catch (e) {
    const err = e instanceof ProxyApiError ? e : new ProxyApiError(e instanceof Error ? e.message : String(e), 500);
    send(res, { status: err.status, goError: true, body: goStringify({ error: err.message, status: err.status }) });
  }
}
