/**
 * EdgeClient policies against real local HTTP servers: which calls are
 * retried, timeouts, breaker opening, and skipping an instance that refuses.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent } from 'undici';
import pino from 'pino';
import { CallError, EdgeClient } from './client.js';
import { createMetrics } from './metrics.js';
import type { ServiceRegistry, TRegisteredInstance } from './registry.js';

let server: http.Server;
let url = '';
let hits = 0;
const agent = new Agent();

beforeAll(async () => {
  server = http.createServer((req, res) => {
    hits++;
    const path = req.url ?? '';
    if (path.startsWith('/slow')) {
      setTimeout(() => res.end('{}'), 300);
      return;
    }
    const status = path.startsWith('/fail') ? 503 : path.startsWith('/dep') ? 503 : 200;
    if (path.startsWith('/dep')) res.setHeader('x-dependency-failure', 'true');
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(status === 200 ? { ok: true } : { error: { code: 'down', message: 'down' } }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await agent.close();
  await new Promise((r) => server.close(r));
});

function client(instances: TRegisteredInstance[], opts: ConstructorParameters<typeof EdgeClient>[1] = {}) {
  const registry = { ttlMs: 1000, healthy: async () => instances } as unknown as ServiceRegistry;
  const metrics = createMetrics('orders');
  const c = new EdgeClient(
    { service: 'orders', target: 'payments', registry, edges: {}, agent, metrics, log: pino({ level: 'silent' }) },
    { backoffInitialMs: 5, backoffMaxMs: 10, ...opts },
  );
  return { c, metrics };
}

async function failure(p: Promise<unknown>): Promise<CallError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof CallError) return e;
    throw e;
  }
  throw new Error('expected a CallError');
}

describe('EdgeClient', () => {
  it('retries an idempotent call on 5xx, never a sent non-idempotent one', async () => {
    const { c } = client([{ id: 'payments-0', index: 0, url }], { retries: 2, breakerThreshold: 100 });
    hits = 0;
    expect((await failure(c.call({ method: 'GET', path: '/fail', idempotent: true }))).kind).toBe('server_error');
    expect(hits).toBe(3);
    hits = 0;
    expect((await failure(c.call({ method: 'POST', path: '/fail', body: {} }))).kind).toBe('server_error');
    expect(hits).toBe(1);
  });

  it('retries a non-idempotent call that was refused on another instance', async () => {
    const dead = http.createServer();
    await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
    const deadUrl = `http://127.0.0.1:${(dead.address() as AddressInfo).port}`;
    await new Promise((r) => dead.close(r));
    const { c } = client([
      { id: 'payments-0', index: 0, url: deadUrl },
      { id: 'payments-1', index: 1, url },
    ]);
    for (let i = 0; i < 4; i++) {
      const r = await c.call({ method: 'POST', path: '/ok', body: {} });
      expect(r.status).toBe(200);
      expect(r.instance).toBe('payments-1');
    }
  });

  it('times out slow calls and opens the breaker after consecutive failures; then rejects without a request', async () => {
    const { c, metrics } = client([{ id: 'payments-0', index: 0, url }], { retries: 0, timeoutMs: 50, breakerThreshold: 2, breakerHalfOpenAfterMs: 60_000 });
    expect((await failure(c.call({ method: 'GET', path: '/slow', idempotent: true }))).kind).toBe('timeout');
    expect((await failure(c.call({ method: 'GET', path: '/slow', idempotent: true }))).kind).toBe('timeout');
    expect(c.breakerState).toBe(1);
    hits = 0;
    expect((await failure(c.call({ method: 'GET', path: '/ok', idempotent: true }))).kind).toBe('breaker_open');
    expect(hits).toBe(0);
    const text = await metrics.registry.metrics();
    expect(text).toContain('circuit_breaker_state{service="orders",breaker="orders->payments"} 1');
    expect(text).toContain('circuit_breaker_events_total{service="orders",breaker="orders->payments",event="open"} 1');
  });

  it('returns a 5xx marked as a dependency failure without counting it against the breaker', async () => {
    const { c } = client([{ id: 'payments-0', index: 0, url }], { retries: 2, breakerThreshold: 1 });
    hits = 0;
    const r = await c.call({ method: 'POST', path: '/dep', body: {} });
    expect(r.status).toBe(503);
    expect(hits).toBe(1);
    expect(c.breakerState).toBe(0);
  });

  it('with the breaker disabled, failures never open it', async () => {
    const { c } = client([{ id: 'payments-0', index: 0, url }], { retries: 0, breakerThreshold: 1, breakerDisabled: true });
    for (let i = 0; i < 3; i++) expect((await failure(c.call({ method: 'GET', path: '/fail', idempotent: true }))).kind).toBe('server_error');
    expect(c.breakerState).toBe(0);
  });
});
