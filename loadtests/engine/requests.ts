/**
 * The plain-HTTP request mix (a scenario's `requests`, for systems under test
 * other than the shop): one weighted request per iteration, with generated
 * values filled in, recorded as history — invoke, then ok / fail / info —
 * with the id of every acknowledged write (the scenario's `acknowledged`, the
 * run's target file), so the analysis can confirm each exists afterwards.
 */
import { randomInt, randomUUID } from 'node:crypto';
import type { TAcknowledgedWrite, THttpRequestDef, TScenario } from '../scenario.js';
import type { TShopIO } from './shop.js';

const TEMPLATE = /\$\{([a-zA-Z]+)((?:\s+[^\s}]+)*)\s*\}/g;
const WHOLE = /^\$\{\s*randInt(?:\s+[^\s}]+)*\s*\}$/;

/** One generated value: `uuid`, `randInt a b [width]`, `pick a b …`, `vu`. */
function generate(fn: string, args: string[], vu: number): string | number {
  switch (fn) {
    case 'uuid':
      return randomUUID();
    case 'randInt': {
      const [a, b, width] = args.map(Number);
      const n = randomInt(Math.ceil(a ?? 0), Math.floor(b ?? a ?? 0) + 1);
      return width ? String(n).padStart(width, '0') : n;
    }
    case 'pick':
      return args[randomInt(args.length)] ?? '';
    case 'vu':
      return vu;
    default:
      // unknown: left visible in the request rather than silently empty
      return `\${${fn}}`;
  }
}

/** A template string with its generated values (a whole `${randInt a b}` stays a number). */
export function fillTemplate(text: string, vu: number): string | number {
  if (WHOLE.test(text.trim())) {
    const [, fn, rest] = /^\$\{\s*(\w+)(.*)\}$/.exec(text.trim())!;
    const v = generate(fn, rest.trim().split(/\s+/).filter(Boolean), vu);
    if (typeof v === 'number') return v;
  }
  return text.replace(TEMPLATE, (_m, fn: string, rest: string) => String(generate(fn, rest.trim().split(/\s+/).filter(Boolean), vu)));
}

/** A JSON body with every string value filled in (a new value; the definition is not changed). */
export function fillBody(body: unknown, vu: number): unknown {
  if (typeof body === 'string') return fillTemplate(body, vu);
  if (Array.isArray(body)) return body.map((b) => fillBody(b, vu));
  if (body && typeof body === 'object') return Object.fromEntries(Object.entries(body).map(([k, v]) => [k, fillBody(v, vu)]));
  return body;
}

/** The value at a JSON path (`$.transferId`, `$.data.items[0].id`). */
export function atJsonPath(value: unknown, jsonPath: string): unknown {
  let cur: unknown = value;
  for (const m of jsonPath.slice(1).matchAll(/\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]/g)) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = m[1] !== undefined ? (cur as Record<string, unknown>)[m[1]] : (cur as unknown[])[Number(m[2])];
  }
  return cur;
}

export function routeOf(r: THttpRequestDef): string {
  return r.route ?? `${r.method} ${r.path.split('?')[0]}`;
}

/** Cumulative weights of the requests, for one pick per iteration. */
export function pickRequest(requests: readonly THttpRequestDef[], r: number): THttpRequestDef {
  const total = requests.reduce((a, x) => a + x.weight, 0);
  let x = r * total;
  for (const q of requests) {
    x -= q.weight;
    if (x < 0) return q;
  }
  return requests[requests.length - 1]!;
}

/** Outcome of a request: acknowledged/expected ok, 4xx fail (not applied), anything else unknown. */
function outcome(status: number, expect: readonly number[]): 'ok' | 'fail' | 'info' {
  if (expect.includes(status)) return 'ok';
  if (status >= 400 && status < 500) return 'fail';
  return 'info';
}

/** The request's own key (`acknowledged[].key`): a header's value or a value of its body. */
export function writeKey(key: string | undefined, headers: Readonly<Record<string, string>>, body: unknown): string | undefined {
  if (!key) return undefined;
  if (key.startsWith('header ')) {
    const name = key.slice('header '.length).toLowerCase();
    const hit = Object.entries(headers).find(([k]) => k.toLowerCase() === name);
    return hit?.[1];
  }
  const v = atJsonPath(body, key);
  return v === undefined || v === null || typeof v === 'object' ? undefined : String(v);
}

/** The values at `paths` of an acknowledging response (scalars; anything else is left out). */
export function recordedFields(json: unknown, paths: readonly string[]): Record<string, string | number | boolean | null> {
  const out: Record<string, string | number | boolean | null> = {};
  for (const p of paths) {
    const v = atJsonPath(json, p);
    if (v === null || ['string', 'number', 'boolean'].includes(typeof v)) out[p] = v as string | number | boolean | null;
  }
  return out;
}

/** One iteration: one weighted request, recorded as history. */
export async function requestIteration(s: TScenario, io: TShopIO, vu: number): Promise<void> {
  const req = pickRequest(s.requests ?? [], Math.random());
  const route = routeOf(req);
  const ack: TAcknowledgedWrite | undefined = s.acknowledged.find((a) => a.route === route);
  const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(fillTemplate(v, vu))]));
  const body = req.body === undefined ? undefined : fillBody(req.body, vu);
  const key = writeKey(ack?.key, headers, body);
  const hOn = io.historyOn !== false;
  if (hOn) io.history({ type: 'invoke', f: 'request', process: vu, value: { name: req.name, ...(key ? { key } : {}) }, route });
  const r = await io.call(req.name, {
    method: req.method,
    path: String(fillTemplate(req.path, vu)),
    headers,
    body,
    route,
    expected: req.expect[0]!,
    readBody: ack !== undefined,
  });
  if (!hOn) return;
  const acked = ack && ack.status.includes(r.status) ? atJsonPath(r.json, ack.id) : undefined;
  const fields = acked !== undefined && ack?.record ? recordedFields(r.json, ack.record) : undefined;
  const type = r.interrupted ? 'info' : outcome(r.status, ack ? ack.status : req.expect);
  io.history({
    type,
    f: 'request',
    process: vu,
    value: {
      name: req.name,
      ...(key ? { key } : {}),
      status: r.status,
      ...(acked !== undefined && acked !== null ? { id: String(acked) } : {}),
      ...(fields ? { fields } : {}),
      ...(r.errorKind ? { error: r.errorKind } : r.status >= 400 ? { error: `http_${r.status}` } : {}),
    },
    latencyMs: r.latencyMs,
    correctedLatencyMs: r.correctedLatencyMs,
    route,
  });
}
