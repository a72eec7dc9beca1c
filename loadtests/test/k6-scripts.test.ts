/**
 * The k6 scripts, evaluated by Node with stub k6 modules (k6 cannot be
 * installed here): they load, export `options` with the scenario's executor
 * and thresholds, and their setup/default functions drive the shop API.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadScenarioFile } from '../scenario.js';

const ROOT = path.join(import.meta.dirname, '..');
const NAMES = ['smoke', 'checkout-mix', 'spike', 'soak', 'browse'];
let dir: string;

const STUBS: Record<string, string> = {
  'index.js': `export const calls = globalThis.__calls ??= [];
export function check(v, sets) { let ok = true; for (const [n, f] of Object.entries(sets)) { const r = !!f(v); calls.push({ check: n, ok: r }); ok = ok && r; } return ok; }
export function fail(msg) { throw new Error(msg); }
export function sleep() {}
export default { check, fail, sleep };`,
  'http.js': `const calls = globalThis.__calls ??= [];
let seq = 100;
function res(status, body) { return { status, timings: { duration: 1.5 }, error: '', error_code: 0, json: () => body }; }
function route(method, url, body, params) {
  const p = new URL(url).pathname;
  calls.push({ method, path: p, name: params && params.tags && params.tags.name, key: params && params.headers && params.headers['Idempotency-Key'], auth: params && params.headers && params.headers.Authorization });
  if (method === 'POST' && p === '/users') return res(201, { id: String(seq++) });
  if (method === 'POST' && p === '/login') return res(200, { token: 't' + seq++, userId: '1' });
  if (method === 'GET' && p === '/products') return res(200, { products: [{ id: '11', priceCents: 100, available: 5 }, { id: '12', priceCents: 200, available: 0 }, { id: '13', priceCents: 300, available: 9 }] });
  if (method === 'GET' && p.startsWith('/products/')) return res(200, { id: p.split('/')[2] });
  if (method === 'POST' && p === '/checkout') return res(201, { orderId: String(seq++), status: 'confirmed', totalCents: 100 });
  if (method === 'GET' && p.startsWith('/orders/')) return res(200, { id: p.split('/')[2], status: 'confirmed' });
  if (method === 'POST' && p.endsWith('/cancel')) return res(200, { status: 'cancelled' });
  return res(404, { error: { code: 'NOT_FOUND', message: p } });
}
export default { get: (u, p) => route('GET', u, undefined, p), post: (u, b, p) => route('POST', u, b, p) };`,
  'data.js': `export class SharedArray { constructor(name, fn) { return fn(); } }`,
  'execution.js': `let it = 0; export default { vu: { idInTest: 1 }, scenario: { get iterationInTest() { return it++; } } };`,
  'package.json': JSON.stringify({
    name: 'k6',
    type: 'module',
    exports: { '.': './index.js', './http': './http.js', './execution': './execution.js', './data': './data.js' },
  }),
};

const RUNNER = `
const [script, iterations] = process.argv.slice(2);
globalThis.__ENV = JSON.parse(process.env.STUB_ENV || '{}');
globalThis.open = (p) => (await_fs).readFileSync(p, 'utf8');
const await_fs = await import('node:fs');
const logs = [];
console.log = (...a) => logs.push(a.join(' '));
const m = await import(script);
let data, ran = 0, summary;
if (Number(iterations) > 0) {
  data = m.setup();
  for (let i = 0; i < Number(iterations); i++) { m.default(data); ran++; }
  summary = m.handleSummary({ metrics: { http_reqs: { type: 'counter', contains: 'default', values: { count: 3, rate: 1 } } } });
}
process.stdout.write(JSON.stringify({ options: m.options, exports: Object.keys(m), calls: globalThis.__calls || [], logs, ran, summaryKeys: summary && Object.keys(summary) }));
`;

function evaluate(script: string, iterations = 0, env: Record<string, string> = {}) {
  const out = execFileSync(process.execPath, [path.join(dir, 'runner.mjs'), path.join(dir, 'k6', script), String(iterations)], {
    env: { ...process.env, STUB_ENV: JSON.stringify({ BASE_URL: 'http://127.0.0.1:9', ...env }) },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return JSON.parse(out) as {
    options: { scenarios: Record<string, Record<string, unknown>>; thresholds: Record<string, unknown>; summaryTrendStats: string[] };
    exports: string[];
    calls: Record<string, unknown>[];
    logs: string[];
    ran: number;
    summaryKeys?: string[];
  };
}

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'faultline-k6stub-'));
  cpSync(path.join(ROOT, 'k6'), path.join(dir, 'k6'), { recursive: true });
  mkdirSync(path.join(dir, 'node_modules', 'k6'), { recursive: true });
  for (const [f, src] of Object.entries(STUBS)) writeFileSync(path.join(dir, 'node_modules', 'k6', f), src);
  writeFileSync(path.join(dir, 'runner.mjs'), RUNNER);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('k6 scripts', () => {
  it.each(NAMES)('%s.js exports the options of scenarios/%s.yaml', (name) => {
    const raw = parse(readFileSync(path.join(ROOT, 'scenarios', `${name}.yaml`), 'utf8'));
    const r = evaluate(`${name}.js`);
    expect(r.exports.sort()).toEqual(['default', 'handleSummary', 'options', 'setup']);
    expect(Object.keys(r.options.scenarios)).toEqual([name]);
    expect(r.options.scenarios[name]).toEqual({ ...raw.load, exec: 'default', tags: raw.tags ?? {} });
    const expected = Object.fromEntries(Object.entries(raw.thresholds ?? {}).filter(([k]) => !/^(http_req_corrected_duration|iteration_start_lag)/.test(k)));
    expect(r.options.thresholds).toEqual(expected);
    expect(r.options.summaryTrendStats).toContain('p(99)');
    // metric names and tags k6 accepts
    for (const key of Object.keys(r.options.thresholds)) expect(key.replace(/\{.*\}$/, '')).toMatch(/^[A-Za-z0-9_]+$/);
  });

  it('scenario.js builds the same options from a scenario JSON file (SCENARIO env)', async () => {
    const s = await loadScenarioFile(path.join(ROOT, 'scenarios', 'checkout-mix.yaml'));
    const file = path.join(dir, 'checkout-mix.json');
    writeFileSync(file, JSON.stringify(s));
    const generic = evaluate('scenario.js', 0, { SCENARIO: file });
    const named = evaluate('checkout-mix.js');
    expect(generic.options.thresholds).toEqual(named.options.thresholds);
    const g = generic.options.scenarios['checkout-mix'];
    const n = named.options.scenarios['checkout-mix'];
    // the parsed scenario carries k6's defaults explicitly; the hand-written script leaves them to k6
    expect({ ...g, gracefulStop: n.gracefulStop ?? '30s' }).toEqual({ ...n, gracefulStop: n.gracefulStop ?? '30s' });
  });

  it('setup registers and logs in users, picks products with stock; iterations send the mix with idempotency keys and log history', () => {
    const r = evaluate('checkout-mix.js', 300, { FAULTLINE_HISTORY: '1' });
    expect(r.ran).toBe(300);
    const paths = r.calls.filter((c) => c.method).map((c) => `${c.method} ${String(c.path).replace(/\d+/g, ':id')}`);
    expect(paths.filter((p) => p === 'POST /users')).toHaveLength(20);
    expect(paths.filter((p) => p === 'POST /login')).toHaveLength(20);
    const checkouts = r.calls.filter((c) => c.path === '/checkout');
    expect(checkouts.length).toBeGreaterThan(15);
    expect(new Set(checkouts.map((c) => c.key)).size).toBe(checkouts.length);
    expect(checkouts.every((c) => String(c.auth).startsWith('Bearer t'))).toBe(true);
    expect(r.calls.some((c) => typeof c.path === 'string' && (c.path as string).startsWith('/products/12'))).toBe(false); // out of stock
    expect(paths.some((p) => p === 'GET /orders/:id')).toBe(true);
    expect(r.calls.some((c) => c.check === 'checkout status 201' && c.ok)).toBe(true);
    const history = r.logs.filter((l) => l.startsWith('faultline.history ')).map((l) => JSON.parse(l.slice(18)));
    const okCheckouts = history.filter((e) => e.f === 'checkout' && e.type === 'ok');
    expect(okCheckouts.length).toBe(checkouts.length);
    expect(okCheckouts.every((e) => e.value.orderId && e.value.idempotencyKey)).toBe(true);
    expect(r.summaryKeys?.sort()).toEqual(['stdout', 'summary.json']);
  });

  it('setup hands back FAULTLINE_SETUP_DATA (setup run once for all segments) instead of registering users', () => {
    const file = path.join(dir, 'setup-data.json');
    writeFileSync(file, JSON.stringify({ runTag: 'shared1', users: [{ token: 'handed-token', userId: '7' }], products: [{ id: '13', priceCents: 300 }] }));
    const r = evaluate('checkout-mix.js', 60, { FAULTLINE_SETUP_DATA: file });
    expect(r.calls.filter((c) => c.path === '/users' || c.path === '/login')).toEqual([]);
    const checkouts = r.calls.filter((c) => c.path === '/checkout');
    expect(checkouts.length).toBeGreaterThan(0);
    expect(checkouts.every((c) => c.auth === 'Bearer handed-token' && String(c.key).startsWith('shared1-'))).toBe(true);
    expect(r.calls.filter((c) => typeof c.path === 'string' && (c.path as string).startsWith('/products/')).every((c) => c.path === '/products/13')).toBe(true);
  });

  it('scenario.js refuses to start without SCENARIO', () => {
    expect(() => evaluate('scenario.js')).toThrow(/SCENARIO/);
  });
});
