import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../db/testing.js';
import { faults, runs } from '../db/schema/index.js';
import { recordCollectorLag, serveSelfMetrics } from './self-metrics.js';

describe('faultline self-metrics', () => {
  let t: Awaited<ReturnType<typeof createTestDatabase>>;
  let server: Server;
  let url: string;

  beforeAll(async () => {
    t = await createTestDatabase();
    const base = { experimentName: 'payments-latency', target: 'shop', definition: {} };
    await t.db.insert(runs).values([
      { id: 'r1', state: 'passed', ...base },
      { id: 'r2', state: 'passed', ...base },
      { id: 'r3', state: 'failed', ...base },
      { id: 'r4', state: 'running', ...base },
    ]);
    await t.db.insert(faults).values([
      { id: 'f1', type: 'latency', target: 'orders->payments', params: {}, status: 'active' },
      { id: 'f2', type: 'latency', target: 'orders->payments', params: {}, status: 'removed', removedAt: new Date() },
      { id: 'f3', type: 'pause', target: 'payments-0', params: {}, status: 'active' },
    ]);
    server = await serveSelfMetrics(t.db, { host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((r) => server?.close(r));
    await t?.drop();
  });

  it('counts runs by verdict, active runs, open faults by type and collector lag from live data', async () => {
    recordCollectorLag('metrics', 0.25);
    const text = await (await fetch(`${url}/metrics`)).text();
    expect(text).toContain('faultline_runs_total{verdict="passed"} 2');
    expect(text).toContain('faultline_runs_total{verdict="failed"} 1');
    expect(text).toContain('faultline_runs_total{verdict="errored"} 0');
    expect(text).toContain('faultline_runs_active{state="running"} 1');
    expect(text).toContain('faultline_faults_active{type="latency"} 1');
    expect(text).toContain('faultline_faults_active{type="pause"} 1');
    expect(text).toContain('faultline_collector_lag_seconds{collector="metrics"} 0.25');
  });

  it('answers 404 off /metrics', async () => {
    expect((await fetch(`${url}/other`)).status).toBe(404);
  });
});
