/**
 * Breaker expectations of a target file, judged by a real run: a tiny service
 * on 127.0.0.1 exposes `/metrics` the way a Resilience4j service does through
 * Micrometer (`resilience4j_circuitbreaker_state{name,state}`, 1.0 on the
 * current state) and opens its `api->ledger` breaker while the run's latency
 * fault is on its edge (it asks the fault proxy), half-open for a second after,
 * then closed. A worker runs the experiment through the target file alone:
 * the expectation `opens_during` / `closes_within` holds; with a breaker that
 * never trips (it stays closed) the same expectation fails and the run with it.
 *
 *   runner ──latency toxic──▶ fault proxy "api->ledger"
 *      │                          ▲ GET /proxies (each scrape)
 *      └─ scrape /metrics ──▶ service: open while the toxic is there
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { startFaultProxy } from '../../../chaos/index.js';
import { dropDatabase, migrateDatabase } from '../../../db/migrate.js';
import { loadExperimentFile } from '../../../experiments/index.js';
import type { TReport } from '../../reports/index.js';
import { enqueueRun, getPlatform, getReport, startWorker, waitForRun, type TPlatform } from '../../index.js';

const EDGE = 'api->ledger';
const REDIS = 'redis://127.0.0.1:6379/12';
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
}, 120_000);

/** Listen on the first free port of 19400–19499 (other people's tests share the machine). */
async function listenInRange(server: net.Server, skip = new Set<number>()): Promise<number> {
  for (let port = 19400 + Math.floor(Math.random() * 50); port < 19500; port++) {
    if (skip.has(port)) continue;
    const ok = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (ok) return port;
  }
  throw new Error('no free port in 19400–19499');
}

/** A free port of the range for the proxy's listen address (probed, then released). */
async function freePortInRange(skip: Set<number>): Promise<number> {
  const s = http.createServer();
  const port = await listenInRange(s, skip);
  await new Promise((r) => s.close(r));
  return port;
}

/**
 * The Resilience4j-shaped service: `mode: 'breaker'` opens while the fault proxy has a toxic on
 * its edge; `mode: 'never-opens'` always reports closed (a breaker whose threshold is never reached). Counts the scrapes that saw it open.
 */
async function startService(proxyUrl: string, mode: 'breaker' | 'never-opens') {
  let state = 'closed';
  let toxicGoneAt = 0;
  let toxicScrapes = 0;
  const seen = { open: 0, scrapes: 0 };
  async function toxicOnEdge(): Promise<boolean> {
    try {
      const proxies = (await (await fetch(`${proxyUrl}/proxies`, { signal: AbortSignal.timeout(2000) })).json()) as Record<string, { toxics: unknown[] }>;
      return (proxies[EDGE]?.toxics.length ?? 0) > 0;
    } catch {
      return false;
    }
  }
  const server = http.createServer((req, res) => {
    void (async () => {
      if (req.url === '/metrics') {
        // Like a real breaker, it opens only after failures accumulate: from the second scrape
        // that sees the toxic. A scrape's sample time is its tick's start, and on a busy machine
        // the first such tick can start before the fault's appliedAt was stamped.
        toxicScrapes = mode === 'breaker' && (await toxicOnEdge()) ? toxicScrapes + 1 : 0;
        const faulty = toxicScrapes >= 2;
        if (faulty) state = 'open';
        else if (state === 'open') ((state = 'half_open'), (toxicGoneAt = Date.now()));
        else if (state === 'half_open' && Date.now() - toxicGoneAt >= 1000) state = 'closed';
        seen.scrapes++;
        if (state === 'open') seen.open++;
        const lines = ['# HELP resilience4j_circuitbreaker_state The states of the circuit breaker', '# TYPE resilience4j_circuitbreaker_state gauge'];
        for (const [name, current] of [
          [EDGE, state],
          ['api->fx', 'closed'],
        ])
          for (const s of ['closed', 'disabled', 'forced_open', 'half_open', 'metrics_only', 'open'])
            lines.push(`resilience4j_circuitbreaker_state{application="api",name="${name}",state="${s}",} ${s === current ? '1.0' : '0.0'}`);
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(`${lines.join('\n')}\n`);
      } else res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    })();
  });
  const port = await listenInRange(server);
  return { port, seen, close: () => new Promise<void>((r) => server.close(() => r())) };
}

async function startStack(mode: 'breaker' | 'never-opens') {
  const tag = randomBytes(4).toString('hex');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fl-h4-breakers-'));
  const dbUrl = `postgres://postgres@127.0.0.1:5432/fl_h4_${tag}`;
  await migrateDatabase(dbUrl);
  const proxy = await startFaultProxy({ host: '127.0.0.1', port: 0 });
  const service = await startService(proxy.url, mode);
  const listen = await freePortInRange(new Set([service.port]));
  const platform = getPlatform({
    databaseUrl: dbUrl,
    redisUrl: REDIS,
    prefix: `flh4${tag}`,
    toxiproxyUrl: proxy.url,
    supervisorUrl: 'http://127.0.0.1:9',
    reportDir: dir,
  });
  const worker = await startWorker({ platform, log: () => undefined });
  cleanups.push(async () => {
    await worker.stop();
    await platform.queue.obliterate({ force: true }).catch(() => undefined);
    await platform.close();
    await service.close();
    await proxy.close();
    const redis = new Redis(REDIS);
    const keys = await redis.keys(`flh4${tag}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
    await dropDatabase(dbUrl);
    rmSync(dir, { recursive: true, force: true });
  });
  const base = `http://127.0.0.1:${service.port}`;
  writeFileSync(
    path.join(dir, 'target.yaml'),
    `name: api
description: an API whose ledger calls go through a Resilience4j circuit breaker
entry: { url: "${base}", health: /health }
edges:
  toxiproxy: ${proxy.url}
  proxies:
    - { name: ${EDGE}, listen: "127.0.0.1:${listen}", upstream: "127.0.0.1:${service.port}" }
metrics:
  scrape: ["${base}/metrics"]
  breakers: { preset: resilience4j, names: [${EDGE}, api->fx] }
`,
  );
  writeFileSync(
    path.join(dir, 'load.yaml'),
    `name: ping
description: one read
requests:
  - { name: ping, method: GET, path: /ping, expect: [200] }
load: { executor: constant-arrival-rate, rate: 5, timeUnit: 1s, duration: 14s, preAllocatedVUs: 2, maxVUs: 10 }
`,
  );
  const file = path.join(dir, 'experiment.yaml');
  writeFileSync(
    file,
    `name: ledger-slow
description: the ledger edge is slow; the breaker opens and closes again
target: target.yaml
load: { scenario: load.yaml, rate: 5, duration: 14s }
steady_state:
  slos:
    - { name: pings, route: GET /ping, sli: availability, objective: 50 }
faults:
  - { name: ledger-slow, at: 3s, duration: 5s, fault: { type: latency, target: ${EDGE}, params: { latencyMs: 200 } } }
expectations:
  breakers:
    - { breaker: ${EDGE}, opens_during: ledger-slow, closes_within: 8s }
quiescence: 30s
`,
  );
  return { platform, service, file };
}

async function runOnce(platform: TPlatform, file: string) {
  const experiment = await loadExperimentFile(file);
  const { runId } = await enqueueRun(platform, { experiment, sourcePath: file, trigger: 'cli' });
  const run = await waitForRun(platform, runId, { timeoutMs: 300_000 });
  const report = ((await getReport(platform, runId)) as { report: TReport }).report;
  return { run: run!, report };
}

describe('breaker expectations of a target file (Resilience4j metrics)', () => {
  it('the breaker opens during the fault and closes after it: the expectation holds', async () => {
    const { platform, service, file } = await startStack('breaker');
    const { run, report } = await runOnce(platform, file);
    // the service did see the fault (the run's own toxic), so the judgement below is of a real flip
    expect(service.seen.open).toBeGreaterThan(0);
    const [x] = report.breakers.expectations;
    expect(x, JSON.stringify(report.breakers)).toMatchObject({ breaker: EDGE, fault: 'ledger-slow', pass: true });
    expect(x.timeToOpenMs).not.toBeNull();
    expect(x.timeToCloseMs).not.toBeNull();
    const fault = report.faults.find((f) => f.name === 'ledger-slow')!;
    const tl = report.breakers.timelines.find((t) => t.breaker === EDGE)!;
    // lanes for the report and the run page: closed → open (inside the fault) → half-open → closed
    expect(tl.segments.map((s) => s.state)).toEqual(['closed', 'open', 'half-open', 'closed']);
    expect(tl.trips).toEqual([expect.objectContaining({ fault: 'ledger-slow', from: 'closed' })]);
    expect(tl.trips[0].t).toBeGreaterThanOrEqual(fault.appliedAt!);
    expect(report.breakers.timelines.find((t) => t.breaker === 'api->fx')!.trips).toEqual([]);
    expect(run.state, run.reason ?? '').toBe('passed');
  }, 400_000);

  it('a breaker that never opens fails the same expectation, and the run', async () => {
    const { platform, service, file } = await startStack('never-opens');
    const { run, report } = await runOnce(platform, file);
    expect(service.seen.scrapes).toBeGreaterThan(0);
    expect(service.seen.open).toBe(0);
    const [x] = report.breakers.expectations;
    expect(x).toMatchObject({ breaker: EDGE, pass: false, timeToOpenMs: null });
    expect(x.message).toMatch(/did not open during ledger-slow/);
    expect(run.state).toBe('failed');
  }, 400_000);
});
