import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import client from 'prom-client';
import { createTestDatabase } from '../../../db/testing.js';
import type { TDb } from '../../../db/client.js';
import { runs } from '../../../db/schema/index.js';
import { PostgresLogStore } from '../../logstore/index.js';
import { LogCollector, MetricsCollector, parseExposition, readSamples, SupervisorClient, toLogRecord } from '../index.js';

function listen(handler: Parameters<typeof createServer>[1]): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })));
}

describe('parseExposition', () => {
  it('keeps every labelled histogram series (prom-client writes le first)', async () => {
    const reg = new client.Registry();
    const h = new client.Histogram({
      name: 'http_server_request_duration_seconds',
      help: 'x',
      labelNames: ['route', 'status'],
      buckets: [0.1, 1],
      registers: [reg],
    });
    h.observe({ route: '/a', status: '200' }, 0.05);
    h.observe({ route: '/b', status: '500' }, 0.5);
    new client.Counter({ name: 'nodejs_whatever_total', help: 'x', registers: [reg] }).inc();
    const s = parseExposition(await reg.metrics(), ['http_server_request_duration_seconds']);
    const b = s.filter((x) => x.metric === 'http_server_request_duration_seconds_bucket');
    expect(b).toHaveLength(6);
    expect(b.find((x) => x.labels.route === '/b' && x.labels.le === '0.1')?.value).toBe(0);
    expect(b.find((x) => x.labels.route === '/b' && x.labels.le === '1')?.value).toBe(1);
    expect(s.find((x) => x.metric === 'http_server_request_duration_seconds_count' && x.labels.route === '/a')?.value).toBe(1);
    expect(s.some((x) => x.metric.startsWith('nodejs_'))).toBe(false);
  });
});

describe('toLogRecord', () => {
  it('maps a pino line, keeps extra fields, tags the run', () => {
    const r = toLogRecord(
      {
        cursor: 1,
        instance: 'orders-0',
        service: 'orders',
        line: JSON.stringify({
          time: '2026-11-23T10:00:00.000Z',
          level: 'warn',
          service: 'orders',
          instance: 'orders-0',
          msg: 'breaker open',
          breaker: 'orders->payments',
          pid: 12,
        }),
      },
      'r1',
    );
    expect(r).toEqual({
      time: new Date('2026-11-23T10:00:00.000Z'),
      level: 'warn',
      service: 'orders',
      instance: 'orders-0',
      msg: 'breaker open',
      runId: 'r1',
      fields: { breaker: 'orders->payments' },
    });
    expect(toLogRecord({ cursor: 2, instance: 'x-0', service: 'x', line: '{"level":50,"msg":"boom","runId":"other"}' }, 'r1')).toMatchObject({
      level: 'error',
      runId: 'other',
    });
    expect(toLogRecord({ cursor: 3, instance: 'x-0', service: 'x', line: 'not json at all' }, 'r1')).toMatchObject({
      level: 'error',
      msg: 'not json at all',
      runId: 'r1',
    });
  });
});

describe('collectors against HTTP instances and a supervisor', () => {
  let t: { db: TDb; drop: () => Promise<void> };
  const servers: Server[] = [];
  let instanceUrl = '';
  let supervisorUrl = '';
  const reg = new client.Registry();
  const hist = new client.Histogram({
    name: 'http_server_request_duration_seconds',
    help: 'x',
    labelNames: ['service', 'route', 'method', 'status'],
    buckets: [0.05, 0.5],
    registers: [reg],
  });
  const breaker = new client.Gauge({ name: 'circuit_breaker_state', help: 'x', labelNames: ['service', 'breaker'], registers: [reg] });
  const logLines: { cursor: number; instance: string; service: string; line: string }[] = [];
  const runId = 'run-collect-1';

  beforeAll(async () => {
    t = await createTestDatabase();
    await t.db.insert(runs).values({ id: runId, experimentName: 'x', target: 'shop', definition: {} });
    const inst = await listen(async (req, res) => {
      if (req.url === '/metrics') {
        res.setHeader('content-type', reg.contentType);
        res.end(await reg.metrics());
      } else res.writeHead(404).end();
    });
    servers.push(inst.server);
    instanceUrl = inst.url;
    const sup = await listen((req, res) => {
      const u = new URL(req.url!, 'http://x');
      res.setHeader('content-type', 'application/json');
      if (u.pathname === '/instances') {
        res.end(
          JSON.stringify([
            { id: 'gateway-0', service: 'gateway', index: 0, pid: 1, port: 1, url: instanceUrl, state: 'running', restarts: 0, startedAt: null },
            // a killed instance: scraping it fails, the collector keeps going
            { id: 'payments-0', service: 'payments', index: 0, pid: 2, port: 1, url: 'http://127.0.0.1:1', state: 'running', restarts: 0, startedAt: null },
            { id: 'orders-0', service: 'orders', index: 0, pid: null, port: 1, url: 'http://127.0.0.1:1', state: 'stopped', restarts: 0, startedAt: null },
          ]),
        );
      } else if (u.pathname === '/logs') {
        const after = Number(u.searchParams.get('after'));
        const limit = Number(u.searchParams.get('limit'));
        const lines = logLines.filter((l) => l.cursor > after).slice(0, limit);
        res.end(JSON.stringify({ lines, next: lines.length ? lines[lines.length - 1]!.cursor : Math.min(after, logLines.length) }));
      } else res.writeHead(404).end('{}');
    });
    servers.push(sup.server);
    supervisorUrl = sup.url;
  });
  afterAll(async () => {
    for (const s of servers) await new Promise((r) => s.close(r));
    await t?.drop();
  });

  it('stores each scrape compactly and reads it back as contract rows', async () => {
    const sup = new SupervisorClient({ url: supervisorUrl });
    const ticks: number[] = [];
    const c = new MetricsCollector({ db: t.db, runId, instances: () => sup.instances(), timeoutMs: 300, onTick: (k) => ticks.push(k.scrapes.length) });
    hist.observe({ service: 'gateway', route: '/checkout', method: 'POST', status: '201' }, 0.02);
    breaker.set({ service: 'orders', breaker: 'orders->payments' }, 0);
    await c.tick();
    hist.observe({ service: 'gateway', route: '/checkout', method: 'POST', status: '503' }, 0.3);
    breaker.set({ service: 'orders', breaker: 'orders->payments' }, 1);
    await new Promise((r) => setTimeout(r, 5));
    await c.tick();
    expect(ticks).toEqual([1, 1]);
    expect(c.stats.failedScrapes).toBe(2);
    const rows = await readSamples(t.db, runId, { metrics: ['circuit_breaker_state'] });
    expect(rows.map((r) => r.value)).toEqual([0, 1]);
    expect(rows[0]).toMatchObject({ instance: 'gateway-0', service: 'gateway', labels: { service: 'orders', breaker: 'orders->payments' } });
    const counts = await readSamples(t.db, runId, { metrics: ['http_server_request_duration_seconds_count'] });
    // tick 1: one series (201); tick 2: the 201 series again + the new 503 series
    expect(counts).toHaveLength(3);
    // one series row per label set, not per sample
    const series = await t.db.$client.query('select count(*)::int n from metric_series where run_id = $1', [runId]);
    const samples = await t.db.$client.query('select count(*)::int n from metric_samples');
    expect(series.rows[0].n).toBe(c.stats.series);
    expect(samples.rows[0].n).toBe(c.stats.samplesStored);
    expect(samples.rows[0].n).toBeGreaterThan(series.rows[0].n);
  });

  it('ticks on its own each interval until stopped', async () => {
    const sup = new SupervisorClient({ url: supervisorUrl });
    const c = new MetricsCollector({ db: t.db, runId, instances: () => sup.instances(), intervalMs: 100, timeoutMs: 80 });
    c.start();
    // ticks come by themselves (no wall-clock count: a busy machine delays timers)
    for (let i = 0; i < 600 && c.stats.ticks < 3; i++) await new Promise((r) => setTimeout(r, 50));
    expect(c.stats.ticks).toBeGreaterThanOrEqual(3);
    await c.stop();
    const after = c.stats.ticks;
    await new Promise((r) => setTimeout(r, 350));
    expect(c.stats.ticks).toBe(after);
  });

  it('ships only lines from the start cursor on, tagged with the run, into the log store', async () => {
    const push = (instance: string, obj: Record<string, unknown>) =>
      logLines.push({ cursor: logLines.length + 1, instance, service: instance.split('-')[0]!, line: JSON.stringify(obj) });
    push('orders-0', { time: new Date().toISOString(), level: 'info', msg: 'before the run' });
    const store = new PostgresLogStore(t.db);
    const lc = new LogCollector({ supervisor: new SupervisorClient({ url: supervisorUrl }), store, runId, intervalMs: 50, pageSize: 2 });
    await lc.start();
    push('orders-0', { time: new Date().toISOString(), level: 'warn', msg: 'breaker opened', runId, breaker: 'orders->payments' });
    push('payments-0', { time: new Date().toISOString(), level: 'info', msg: 'untagged during run' });
    push('payments-0', { time: new Date().toISOString(), level: 'info', msg: 'other run', runId: 'someone-else' });
    push('users-0', { time: new Date().toISOString(), level: 'error', msg: 'last line' });
    await lc.stop();
    const page = await store.search({ runId, limit: 100 });
    expect(page.records.map((r) => r.msg).sort()).toEqual(['breaker opened', 'last line', 'untagged during run']);
    expect(lc.stats.otherRuns).toBe(1);
    expect((await store.search({ runId, text: 'orders->payments' })).records).toHaveLength(1);
  });
});
