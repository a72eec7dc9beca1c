/**
 * Two pieces of a target file, each through a real worker:
 *
 * - `entry.setup`: a small service hands out a bearer token at POST /login and
 *   answers 401 to every other request without it. The target logs in once
 *   (capture `token: $.token`), the entry headers carry `Bearer ${token}` and
 *   the scenario's requests carry `${token}` in a header, a path and a body:
 *   every request of the run is authorised (the service counts no 401). A
 *   capture path the login answer does not have ends the run errored, naming
 *   the field, before any load reached the service.
 * - `metrics.http_sd`: a discovery server lists one `/metrics` endpoint, and a
 *   second one (with `__metrics_path__`) once the first has been scraped a few
 *   times, i.e. mid-run; the run's stored series include both instances.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { dropDatabase, migrateDatabase } from '../../../db/migrate.js';
import { loadExperimentFile } from '../../../experiments/index.js';
import { enqueueRun, getPlatform, getReport, startWorker, waitForRun, type TPlatform } from '../../index.js';

const REDIS = 'redis://127.0.0.1:6379/13';
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
}, 120_000);

/** Listen on the first free port of 19500–19599 (other people's tests share the machine). */
async function listenInRange(server: net.Server): Promise<number> {
  for (let port = 19500 + Math.floor(Math.random() * 60); port < 19600; port++) {
    const ok = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (ok) return port;
  }
  throw new Error('no free port in 19500–19599');
}

async function serve(handler: http.RequestListener) {
  const server = http.createServer(handler);
  const port = await listenInRange(server);
  cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
  return { port, url: `http://127.0.0.1:${port}` };
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let s = '';
    req.on('data', (c: Buffer) => (s += c.toString()));
    req.on('end', () => resolve(s));
  });
}

/** The service: POST /login hands out a fresh token; everything but /health needs it. */
async function startAuthService() {
  const token = randomBytes(8).toString('hex');
  const counts = { logins: 0, ok: 0, unauthorised: 0 };
  const svc = await serve((req, res) => {
    void (async () => {
      const body = await readBody(req);
      if (req.url === '/health') return res.writeHead(200).end('ok');
      if (req.method === 'POST' && req.url === '/login') {
        counts.logins++;
        const creds = JSON.parse(body || '{}') as { user?: string };
        if (creds.user !== 'loadtest') return res.writeHead(403).end();
        return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token, user: { name: 'loadtest' } }));
      }
      const bearer = req.headers.authorization === `Bearer ${token}` && req.headers['x-session'] === token;
      const pathOk = req.method !== 'GET' || req.url === `/items/${token}`;
      const bodyOk = req.method !== 'POST' || (JSON.parse(body || '{}') as { session?: string }).session === token;
      if (!bearer || !pathOk || !bodyOk) {
        counts.unauthorised++;
        return res.writeHead(401).end();
      }
      counts.ok++;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    })();
  });
  return { ...svc, counts };
}

async function startPlatform() {
  const tag = randomBytes(4).toString('hex');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fl-h5-'));
  const dbUrl = `postgres://postgres@127.0.0.1:5432/fl_h5_${tag}`;
  await migrateDatabase(dbUrl);
  const platform = getPlatform({
    databaseUrl: dbUrl,
    redisUrl: REDIS,
    prefix: `flh5${tag}`,
    toxiproxyUrl: 'http://127.0.0.1:9',
    supervisorUrl: 'http://127.0.0.1:9',
    reportDir: dir,
  });
  const worker = await startWorker({ platform, log: () => undefined });
  cleanups.push(async () => {
    await worker.stop();
    await platform.queue.obliterate({ force: true }).catch(() => undefined);
    await platform.close();
    const redis = new Redis(REDIS);
    const keys = await redis.keys(`flh5${tag}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
    await dropDatabase(dbUrl);
    rmSync(dir, { recursive: true, force: true });
  });
  return { platform, dir };
}

async function runOnce(platform: TPlatform, file: string) {
  const experiment = await loadExperimentFile(file);
  const { runId } = await enqueueRun(platform, { experiment, sourcePath: file, trigger: 'cli' });
  const run = await waitForRun(platform, runId, { timeoutMs: 300_000 });
  return { runId, run: run! };
}

function writeExperiment(dir: string, duration: string) {
  const file = path.join(dir, 'experiment.yaml');
  writeFileSync(
    file,
    `name: target-pieces
description: a target run without faults
target: target.yaml
load: { scenario: load.yaml, rate: 5, duration: ${duration} }
steady_state:
  slos:
    - { name: reads, route: GET /items/:token, sli: availability, objective: 50 }
quiescence: 10s
`,
  );
  return file;
}

function writeLoad(dir: string, duration: string) {
  writeFileSync(
    path.join(dir, 'load.yaml'),
    `name: authorised
requests:
  - { name: read, method: GET, path: '/items/\${token}', route: 'GET /items/:token', headers: { x-session: '\${token}' }, expect: [200] }
  - { name: note, method: POST, path: /notes, headers: { x-session: '\${token}' }, body: { session: '\${token}', id: '\${uuid}' }, expect: [200] }
load: { executor: constant-arrival-rate, rate: 5, timeUnit: 1s, duration: ${duration}, preAllocatedVUs: 2, maxVUs: 10 }
`,
  );
}

function writeSetupTarget(dir: string, base: string, capturePath: string) {
  writeFileSync(
    path.join(dir, 'target.yaml'),
    `name: authed
description: a service that wants a bearer token from its login
entry:
  url: "${base}"
  health: /health
  headers: { authorization: 'Bearer \${token}' }
  setup:
    - name: login
      method: POST
      path: /login
      body: { user: loadtest }
      capture: { token: ${capturePath} }
`,
  );
}

describe('entry.setup captures', () => {
  it('logs in once; every request of the run carries the captured token (no 401)', async () => {
    const svc = await startAuthService();
    const { platform, dir } = await startPlatform();
    writeSetupTarget(dir, svc.url, '$.token');
    writeLoad(dir, '6s');
    const { run } = await runOnce(platform, writeExperiment(dir, '6s'));
    expect(run.state, run.reason ?? '').toBe('passed');
    expect(svc.counts.logins).toBe(1);
    expect(svc.counts.ok).toBeGreaterThan(10);
    expect(svc.counts.unauthorised).toBe(0);
  }, 400_000);

  it('a capture path the login answer does not have ends the run errored naming the field, before any load', async () => {
    const svc = await startAuthService();
    const { platform, dir } = await startPlatform();
    writeSetupTarget(dir, svc.url, '$.tokn');
    writeLoad(dir, '6s');
    const { run } = await runOnce(platform, writeExperiment(dir, '6s'));
    expect(run.state).toBe('errored');
    expect(run.reason).toMatch(/setup step "login" \(entry\.setup\.0\): capture token \(entry\.setup\.0\.capture\.token\): \$\.tokn is not in the response/);
    expect(svc.counts.logins).toBe(1);
    expect(svc.counts.ok + svc.counts.unauthorised).toBe(0);
  }, 400_000);
});

/**
 * A target named `name` whose metrics come from `metrics` (one YAML line under `metrics:`), GET /ping
 * at `rate`/s for `seconds` as its load, and an experiment with an availability SLO on it: one run
 * of it on a fresh platform to a verdict (passed or failed: no faults, a loose SLO).
 */
async function runPing(name: string, entryUrl: string, metrics: string, rate: number, seconds: number) {
  const { platform, dir } = await startPlatform();
  writeFileSync(
    path.join(dir, 'target.yaml'),
    `name: ${name}\ndescription: a ping service, its metrics through ${metrics.split(':')[0]}\nentry: { url: "${entryUrl}", health: /health }\nmetrics:\n  ${metrics}\n  requests: { histogram: app_http_seconds, route_label: route, status_label: code }\n`,
  );
  writeFileSync(
    path.join(dir, 'load.yaml'),
    `name: ping\nrequests:\n  - { name: ping, method: GET, path: /ping, route: GET /ping, expect: [200] }\nload: { executor: constant-arrival-rate, rate: ${rate}, timeUnit: 1s, duration: ${seconds}s, preAllocatedVUs: 2, maxVUs: 4 }\n`,
  );
  const file = path.join(dir, 'experiment.yaml');
  writeFileSync(
    file,
    `name: ${name}\ndescription: no faults\ntarget: target.yaml\nload: { scenario: load.yaml, rate: ${rate}, duration: ${seconds}s }\nsteady_state:\n  slos:\n    - { name: pings, route: GET /ping, sli: availability, objective: 50 }\nquiescence: 10s\n`,
  );
  const { runId, run } = await runOnce(platform, file);
  expect(['passed', 'failed'], run.reason ?? '').toContain(run.state);
  return { platform, runId };
}

describe('metrics.http_sd', () => {
  it('scrapes every discovered endpoint, one of them appearing mid-run', async () => {
    const exposition = (name: string) =>
      `# TYPE app_http_seconds histogram\napp_http_seconds_bucket{route="/x",code="200",le="+Inf"} 1\napp_http_seconds_sum{route="/x",code="200"} 0.1\napp_http_seconds_count{route="/x",code="200"} 1\n# TYPE ${name}_up gauge\n${name}_up 1\n`;
    const scrapes = { a: 0, b: 0 };
    const a = await serve((req, res) => {
      if (req.url === '/metrics') {
        scrapes.a++;
        return res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(exposition('a'));
      }
      res.writeHead(200).end('ok');
    });
    const b = await serve((req, res) => {
      if (req.url === '/actuator/prometheus') {
        scrapes.b++;
        return res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(exposition('b'));
      }
      res.writeHead(404).end();
    });
    // b is listed only once a has been scraped a few times: it appears while the run goes on
    const sd = await serve((_req, res) => {
      const groups: unknown[] = [{ targets: [`127.0.0.1:${a.port}`], labels: { job: 'api' } }];
      if (scrapes.a >= 4) groups.push({ targets: [`127.0.0.1:${b.port}`], labels: { job: 'worker', __metrics_path__: '/actuator/prometheus' } });
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(groups));
    });
    const { platform, runId } = await runPing('discovered', a.url, `http_sd: "${sd.url}/sd"`, 2, 15);
    expect(scrapes.b).toBeGreaterThan(0);
    const r = await platform.db.$client.query<{ instance: string; service: string; n: string }>(
      `SELECT ms.instance, ms.service, count(s.*) AS n FROM metric_series ms JOIN metric_samples s ON s.series_id = ms.id
        WHERE ms.run_id = $1 AND ms.metric = 'app_http_seconds_count' GROUP BY 1, 2 ORDER BY 2`,
      [runId],
    );
    expect(r.rows.map((x) => [x.instance, x.service])).toEqual([
      [`discovered-127.0.0.1:${a.port}`, 'api'],
      [`discovered-127.0.0.1:${b.port}`, 'worker'],
    ]);
    expect(r.rows.every((x) => Number(x.n) > 0)).toBe(true);
  }, 400_000);
});

describe('metrics.prometheus', () => {
  it("reads the target's series from its Prometheus server (federation), and the server SLO figures come from them", async () => {
    // the service counts its pings in a histogram; only "Prometheus" scrapes it
    let pings = 0;
    const app = await serve((req, res) => {
      if (req.url === '/ping') pings++;
      res.writeHead(200).end('ok');
    });
    // a Prometheus answering /federate as the real one does: the matching series with their
    // target's instance and job labels, typed untyped, each line its own family
    const matches: string[] = [];
    const prom = await serve((req, res) => {
      const u = new URL(req.url ?? '/', 'http://x');
      if (u.pathname === '/api/v1/status/buildinfo') return res.writeHead(200).end(JSON.stringify({ status: 'success', data: { version: '2.53.0' } }));
      if (u.pathname !== '/federate') return res.writeHead(404).end();
      const match = u.searchParams.getAll('match[]');
      matches.push(...match);
      const names = new RegExp(`^${/__name__=~"([^"]+)"/.exec(match[0] ?? '')?.[1] ?? '$^'}$`);
      const labels = `route="/ping",code="200",instance="127.0.0.1:${app.port}",job="app"`;
      const series: [string, string, number][] = [
        ['app_http_seconds_bucket', `{${labels},le="+Inf"}`, pings],
        ['app_http_seconds_count', `{${labels}}`, pings],
        ['app_http_seconds_sum', `{${labels}}`, pings * 0.01],
        ['process_cpu_seconds_total', `{instance="127.0.0.1:${app.port}",job="app"}`, 1],
      ];
      const text = series
        .filter(([n]) => names.test(n))
        .map(([n, l, v]) => `# TYPE ${n} untyped\n${n}${l} ${v} ${Date.now()}\n`)
        .join('');
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(text);
    });
    const { platform, runId } = await runPing('federated', app.url, `prometheus: "${prom.url}"`, 4, 10);
    // asked for the families the run keeps, and nothing else was stored
    expect(matches[0]).toBe('{__name__=~"(app_http_seconds)(_bucket|_count|_sum)?"}');
    const r = await platform.db.$client.query<{ instance: string; service: string; metric: string }>(
      `SELECT DISTINCT instance, service, metric FROM metric_series WHERE run_id = $1 ORDER BY metric`,
      [runId],
    );
    expect(r.rows).toEqual([
      { instance: 'federated-prometheus', service: 'federated', metric: 'app_http_seconds_bucket' },
      { instance: 'federated-prometheus', service: 'federated', metric: 'app_http_seconds_count' },
      { instance: 'federated-prometheus', service: 'federated', metric: 'app_http_seconds_sum' },
    ]);
    // the SLO's server figures: the pings Prometheus counted during the run
    const report = (await getReport(platform, runId)) as { report: { slos: { figures: { source: string; valid: number }[] }[] } };
    const server = report.report.slos[0]!.figures.find((f) => f.source === 'server');
    expect(server?.valid).toBeGreaterThan(10);
  }, 400_000);
});
