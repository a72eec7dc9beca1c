// Shared k6 code for faultline's shop scenarios: k6 options from a scenario
// object (same shape as loadtests/scenarios/*.yaml), setup (register + log in
// users, pick products), one weighted request per iteration, and
// handleSummary output. Only k6's documented modules are used, so the
// scripts run unchanged under k6 v1.x and v2.
import http from 'k6/http';
import { check, fail } from 'k6';
import exec from 'k6/execution';
import { SharedArray } from 'k6/data';

// Setup that ran once in faultline, handed to every k6 instance of a run split
// into execution segments (k6 itself runs setup() in every instance, and
// k6-operator in every pod: grafana/k6-operator#223). FAULTLINE_SETUP_DATA names
// a JSON file (a run's users and tokens outgrow an environment variable); the
// SharedArray keeps one parsed copy for all VUs instead of one per VU.
const HANDED_SETUP = __ENV.FAULTLINE_SETUP_DATA
  ? new SharedArray('faultline-setup-data', function () {
      return [JSON.parse(open(__ENV.FAULTLINE_SETUP_DATA))];
    })[0]
  : undefined;

// Metrics only faultline's built-in engine can measure (k6 has no intended start time).
const ENGINE_ONLY_METRICS = ['http_req_corrected_duration', 'iteration_start_lag'];

export const SUMMARY_TREND_STATS = ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'p(99)'];

/** k6 `options` for a scenario: one k6 scenario named after it, with its executor and thresholds. */
export function optionsFor(scenario) {
  const load = Object.assign({}, scenario.load);
  const k6Scenario = Object.assign({}, load, { exec: 'default', tags: Object.assign({}, scenario.tags || {}) });
  const thresholds = {};
  for (const key of Object.keys(scenario.thresholds || {})) {
    const metric = key.replace(/\{.*$/, '').trim();
    if (ENGINE_ONLY_METRICS.indexOf(metric) >= 0) continue;
    thresholds[key] = scenario.thresholds[key];
  }
  return {
    scenarios: { [scenario.name]: k6Scenario },
    thresholds,
    summaryTrendStats: SUMMARY_TREND_STATS,
    setupTimeout: '60s',
  };
}

const PASSWORD = 'faultline-load-Pa55';
const HISTORY = __ENV.FAULTLINE_HISTORY === '1';

// One history event as a log line; the k6 adapter reads them from --log-format=json.
function history(ev) {
  if (!HISTORY) return;
  ev.time = Date.now();
  console.log('faultline.history ' + JSON.stringify(ev));
}

function jsonOf(r) {
  try {
    return r.json();
  } catch (e) {
    return undefined;
  }
}

function errOf(r) {
  if (r.error) return r.error_code ? 'k6_' + r.error_code : r.error;
  const b = jsonOf(r);
  if (b && b.error) return (b.error.code || 'error') + ': ' + (b.error.message || '');
  return r.status >= 400 ? 'http_' + r.status : undefined;
}

function outcome(r, okStatus) {
  if (r.status === okStatus) return 'ok';
  if (r.status >= 400 && r.status < 500) return 'fail';
  return 'info';
}

function params(name, token, extra) {
  const headers = Object.assign({ 'Content-Type': 'application/json', Accept: 'application/json' }, extra || {});
  if (token) headers.Authorization = 'Bearer ' + token;
  return { headers, tags: { name }, timeout: (scenarioTimeout || '60s') };
}

let scenarioTimeout = '60s';

/** setup(): users and products for the VUs (the return value is copied to every VU). */
export function setupShop(scenario, baseUrl) {
  scenarioTimeout = (scenario.http && scenario.http.timeout) || '60s';
  if (HANDED_SETUP) return { runTag: HANDED_SETUP.runTag, users: HANDED_SETUP.users, products: HANDED_SETUP.products, timeout: scenarioTimeout };
  const runTag = Date.now().toString(36) + Math.floor(Math.random() * 1e6).toString(36);
  const users = [];
  const setup = scenario.setup || {};
  const count = setup.users === undefined ? 10 : setup.users;
  for (let i = 0; i < count; i++) {
    const email = 'load-' + runTag + '-' + i + '@faultline.test';
    const reg = http.post(baseUrl + '/users', JSON.stringify({ email, password: PASSWORD, name: 'load ' + i }), params('register'));
    history({ type: reg.status === 201 ? 'ok' : 'fail', f: 'register', process: 0, value: { status: reg.status }, latencyMs: reg.timings.duration, route: 'POST /users' });
    if (reg.status !== 201) fail('setup: register ' + email + ': ' + (errOf(reg) || reg.status));
    const login = http.post(baseUrl + '/login', JSON.stringify({ email, password: PASSWORD }), params('login'));
    const body = jsonOf(login);
    history({ type: login.status === 200 ? 'ok' : 'fail', f: 'login', process: 0, value: { status: login.status }, latencyMs: login.timings.duration, route: 'POST /login' });
    if (login.status !== 200 || !body || !body.token) fail('setup: login ' + email + ': ' + (errOf(login) || login.status));
    users.push({ token: body.token, userId: body.userId });
  }
  let products = [];
  const wanted = setup.products === undefined ? 5 : setup.products;
  if (wanted > 0) {
    const r = http.get(baseUrl + '/products', params('browse'));
    const b = jsonOf(r);
    if (r.status !== 200 || !b || !b.products) fail('setup: GET /products: ' + (errOf(r) || r.status));
    products = b.products.filter((p) => p.available === undefined || p.available > 0).slice(0, wanted).map((p) => ({ id: String(p.id), priceCents: p.priceCents }));
    if (products.length === 0) fail('setup: GET /products: no product with stock');
  }
  return { runTag, users, products, timeout: scenarioTimeout };
}

/** Weighted pick over the mix. */
export function pickAction(mix, r) {
  const names = Object.keys(mix);
  let total = 0;
  for (const n of names) total += mix[n] || 0;
  let x = r * total;
  let last = names[0];
  for (const n of names) {
    const w = mix[n] || 0;
    if (w > 0) last = n;
    if (x < w) return n;
    x -= w;
  }
  return last;
}

// VU-local: confirmed orders of this VU (each VU is its own JS runtime in k6)
const myOrders = [];
const rnd = (n) => Math.floor(Math.random() * n);

/** One iteration: one request of the weighted mix. */
export function shopIteration(scenario, data, baseUrl) {
  scenarioTimeout = data.timeout || scenarioTimeout;
  const vu = exec.vu.idInTest;
  const user = data.users.length ? data.users[(vu - 1) % data.users.length] : undefined;
  let action = pickAction(scenario.mix, Math.random());
  if ((action === 'order_status' || action === 'cancel') && myOrders.length === 0) action = 'browse';

  if (action === 'browse') {
    history({ type: 'invoke', f: 'browse', process: vu, value: {}, route: 'GET /products' });
    const r = http.get(baseUrl + '/products', params('browse'));
    check(r, { 'browse status 200': (x) => x.status === 200 });
    history({ type: r.status === 200 ? 'ok' : 'fail', f: 'browse', process: vu, value: { status: r.status, error: errOf(r) }, latencyMs: r.timings.duration, route: 'GET /products' });
  } else if (action === 'view_product') {
    const p = data.products[rnd(data.products.length)];
    history({ type: 'invoke', f: 'view_product', process: vu, value: {}, route: 'GET /products/:id' });
    const r = http.get(baseUrl + '/products/' + encodeURIComponent(p.id), params('view_product'));
    check(r, { 'view_product status 200': (x) => x.status === 200 });
    history({ type: r.status === 200 ? 'ok' : 'fail', f: 'view_product', process: vu, value: { status: r.status, error: errOf(r) }, latencyMs: r.timings.duration, route: 'GET /products/:id' });
  } else if (action === 'checkout') {
    const co = scenario.checkout || {};
    const maxItems = Math.min(co.maxItems || 1, data.products.length);
    const pool = data.products.slice();
    const items = [];
    const n = 1 + rnd(maxItems);
    for (let i = 0; i < n; i++) items.push({ productId: pool.splice(rnd(pool.length), 1)[0].id, qty: 1 + rnd(co.maxQty || 1) });
    const key = data.runTag + '-' + exec.scenario.iterationInTest + '-' + vu;
    history({ type: 'invoke', f: 'checkout', process: vu, value: { idempotencyKey: key, key, items }, route: 'POST /checkout' });
    const r = http.post(baseUrl + '/checkout', JSON.stringify({ items }), params('checkout', user.token, { 'Idempotency-Key': key }));
    check(r, { 'checkout status 201': (x) => x.status === 201 });
    const b = jsonOf(r) || {};
    const orderId = b.orderId !== undefined ? String(b.orderId) : b.error && b.error.orderId !== undefined ? String(b.error.orderId) : undefined;
    const o = outcome(r, 201);
    if (o === 'ok' && orderId) myOrders.push(orderId);
    history({ type: o, f: 'checkout', process: vu, value: { idempotencyKey: key, key, items, status: r.status, orderId, id: orderId, totalCents: b.totalCents, fields: o === 'ok' && b.totalCents !== undefined ? { '$.totalCents': b.totalCents } : undefined, error: o === 'ok' ? undefined : errOf(r) }, latencyMs: r.timings.duration, route: 'POST /checkout' });
  } else if (action === 'order_status') {
    const id = myOrders[rnd(myOrders.length)];
    history({ type: 'invoke', f: 'order_status', process: vu, value: { orderId: id }, route: 'GET /orders/:id' });
    const r = http.get(baseUrl + '/orders/' + encodeURIComponent(id), params('order_status', user.token));
    check(r, { 'order_status status 200': (x) => x.status === 200 });
    history({ type: r.status === 200 ? 'ok' : 'fail', f: 'order_status', process: vu, value: { orderId: id, status: r.status, error: errOf(r) }, latencyMs: r.timings.duration, route: 'GET /orders/:id' });
  } else if (action === 'cancel') {
    const id = myOrders.splice(rnd(myOrders.length), 1)[0];
    history({ type: 'invoke', f: 'cancel', process: vu, value: { orderId: id, id }, route: 'POST /orders/:id/cancel' });
    const r = http.post(baseUrl + '/orders/' + encodeURIComponent(id) + '/cancel', '{}', params('cancel', user.token));
    check(r, { 'cancel status 200': (x) => x.status === 200 });
    const o = outcome(r, 200);
    history({ type: o, f: 'cancel', process: vu, value: { orderId: id, id, status: r.status, error: o === 'ok' ? undefined : errOf(r) }, latencyMs: r.timings.duration, route: 'POST /orders/:id/cancel' });
  }
}

function fmt(m) {
  const v = m.values;
  if (m.type === 'trend') return Object.keys(v).map((k) => k + '=' + (m.contains === 'time' ? v[k].toFixed(2) + 'ms' : v[k].toFixed(2))).join(' ');
  if (m.type === 'rate') return (v.rate * 100).toFixed(2) + '% ' + v.passes + ' out of ' + (v.passes + v.fails);
  if (m.type === 'counter') return v.count + ' ' + v.rate.toFixed(2) + '/s';
  return v.value + ' min=' + v.min + ' max=' + v.max;
}

/** handleSummary: the JSON the faultline adapter reads, and a short text summary on stdout. */
export function summaryOutput(data) {
  const lines = [];
  for (const name of Object.keys(data.metrics).sort()) {
    const m = data.metrics[name];
    let mark = '';
    if (m.thresholds) mark = Object.keys(m.thresholds).every((t) => m.thresholds[t].ok) ? '✓ ' : '✗ ';
    lines.push('  ' + mark + name + ': ' + fmt(m));
  }
  const out = { stdout: lines.join('\n') + '\n' };
  out[__ENV.SUMMARY_PATH || 'summary.json'] = JSON.stringify(data, null, 2);
  return out;
}
