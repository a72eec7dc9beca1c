/**
 * The run page's live breaker lanes (GET /api/runs/:id/breakers → runBreakers)
 * for a run against a target file: samples scraped from a Resilience4j-shaped
 * `/metrics` are read through the target's `metrics.breakers`, so its lanes
 * show; a shop run keeps reading `circuit_breaker_state` only.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeDb, getDb, type TDb } from '../../db/client.js';
import { dropDatabase, migrateDatabase } from '../../db/migrate.js';
import { runs } from '../../db/schema/index.js';
import { MetricsCollector } from '../../workers/collectors/index.js';

const EDGE = 'api->ledger';
const dbUrl = `postgres://postgres@127.0.0.1:5432/fl_h4_${randomBytes(4).toString('hex')}`;
const dir = mkdtempSync(path.join(os.tmpdir(), 'fl-h4-lanes-'));
let db: TDb;
let state = 'closed';
let port = 0;
const server = http.createServer((_req, res) => {
  const lines = ['# TYPE resilience4j_circuitbreaker_state gauge'];
  for (const s of ['closed', 'disabled', 'forced_open', 'half_open', 'metrics_only', 'open'])
    lines.push(`resilience4j_circuitbreaker_state{application="api",name="${EDGE}",state="${s}",} ${s === state ? '1.0' : '0.0'}`);
  res.writeHead(200, { 'content-type': 'text/plain' }).end(`${lines.join('\n')}\n`);
});

beforeAll(async () => {
  await migrateDatabase(dbUrl);
  db = getDb(dbUrl);
  process.env.DATABASE_URL = dbUrl;
  for (port = 19450 + Math.floor(Math.random() * 40); port < 19500; port++) {
    const ok = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (ok) break;
  }
  expect(port).toBeLessThan(19500);
}, 60_000);

afterAll(async () => {
  await new Promise((r) => server.close(r));
  await closeDb(dbUrl);
  await dropDatabase(dbUrl);
  rmSync(dir, { recursive: true, force: true });
});

/** Scrapes of the service as a run's collector stores them, the breaker's state set before each. */
async function scrapeRun(runId: string, states: string[]): Promise<void> {
  const collector = new MetricsCollector({
    db,
    runId,
    instances: async () => [{ id: 'api-0', service: 'api', index: 0, pid: null, port, url: `http://127.0.0.1:${port}`, state: 'running', restarts: 0 }],
    keep: ['resilience4j_circuitbreaker_state', 'circuit_breaker_state'],
  });
  for (const s of states) {
    state = s;
    const tick = await collector.tick();
    expect(tick.failed).toEqual([]);
    // distinct scrape times, so each state is its own observation
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('live breaker lanes of a target run', () => {
  it("reads the target's Resilience4j breaker; a shop run reads only circuit_breaker_state", async () => {
    const { runBreakers } = await import('../_lib/runs.js');
    const target = path.join(dir, 'target.yaml');
    writeFileSync(
      target,
      `name: api
description: Resilience4j breakers
entry: { url: "http://127.0.0.1:${port}", health: /health }
metrics:
  scrape: ["http://127.0.0.1:${port}/metrics"]
  breakers: { preset: resilience4j }
`,
    );
    const states = ['closed', 'closed', 'open', 'open', 'half_open', 'closed'];
    const targetRun = `run${randomBytes(4).toString('hex')}`;
    await db.insert(runs).values({ id: targetRun, experimentName: 'x', target: 'api', state: 'running', definition: { target } });
    await scrapeRun(targetRun, states);
    const { timelines } = await runBreakers(targetRun);
    expect(timelines.map((t) => t.breaker)).toEqual([EDGE]);
    expect(timelines[0].segments.map((s) => s.state)).toEqual(['closed', 'open', 'half-open', 'closed']);
    expect(timelines[0].sources.metricSamples).toBe(states.length);

    // the same samples under a shop run: not its metric, no lanes (as before)
    const shopRun = `run${randomBytes(4).toString('hex')}`;
    await db.insert(runs).values({ id: shopRun, experimentName: 'x', target: 'shop', state: 'running', definition: { target: 'shop' } });
    await scrapeRun(shopRun, states);
    expect((await runBreakers(shopRun)).timelines).toEqual([]);
  }, 60_000);
});
