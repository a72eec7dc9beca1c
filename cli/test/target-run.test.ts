/**
 * `faultline run` / `gate` with an experiment naming a target file, end to end
 * from a child process: the transfers example (examples/transfers) behind the
 * built-in fault proxy, its database and Redis through the target's proxies
 * (as workers/runner/test/target-transfers.test.ts starts it). The shop's
 * supervisor port is a recording server: a target-file run must never contact
 * it. Clean, `run` exits 0; with the split-settle bug it exits 1 naming
 * money-conserved. A failing piece of the target, a bad flag or path: exit 2,
 * one line naming it, no stack trace, no fault.
 *
 * Ports 19300–19399, databases fl_h3_* (dropped), Redis db 11 under its own prefixes.
 */
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { startFaultProxy } from '../../chaos/index.js';
import { admin, waitListening } from '../../examples/transfers/test/harness.js';

const root = path.resolve(import.meta.dirname, '../..');
const BIN = path.join(root, 'cli/bin.mjs');
const EXPERIMENTS = path.join(root, 'examples/transfers/experiments');
const REDIS_DB = 11;
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
}, 120_000);

/** Stands where the shop's supervisor would answer: counts every request, answers none usefully. */
async function recordingSupervisor(port: number): Promise<{ requests: string[] }> {
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    res.writeHead(503).end();
  });
  await new Promise<void>((ok) => server.listen(port, '127.0.0.1', ok));
  cleanups.push(() => new Promise<void>((ok) => server.close(() => ok())));
  return { requests };
}

type TStack = { env: NodeJS.ProcessEnv; supervisor: { requests: string[] }; dir: string };

/** The transfers service behind its proxies, and the environment a `faultline` child process runs with. */
async function startStack(bugs: string, base: number, gapMs = 60): Promise<TStack> {
  const tag = randomBytes(4).toString('hex');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fl-h3-'));
  const bank = `fl_h3_bank_${tag}`;
  const platformDb = `fl_h3_platform_${tag}`;
  await admin(`CREATE DATABASE ${bank}`);
  const [proxyPort, dbProxy, redisProxy, port, supervisorPort] = [base, base + 1, base + 2, base + 3, base + 4];
  const proxy = await startFaultProxy({ host: '127.0.0.1', port: proxyPort });
  for (const [name, listen, upstream] of [
    ['transfers->postgres', dbProxy, 5432],
    ['transfers->redis', redisProxy, 6379],
  ] as const) {
    const r = await fetch(`${proxy.url}/proxies`, {
      method: 'POST',
      body: JSON.stringify({ name, listen: `127.0.0.1:${listen}`, upstream: `127.0.0.1:${upstream}` }),
    });
    expect(r.status).toBe(201);
  }
  const supervisor = await recordingSupervisor(supervisorPort);
  const serviceDb = `postgres://postgres@127.0.0.1:${dbProxy}/${bank}`;
  const serviceRedis = `redis://127.0.0.1:${redisProxy}/${REDIS_DB}`;
  const transfersPrefix = `flh3transfers_${tag}:`;
  const platformPrefix = `flh3_${tag}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: `postgres://postgres@127.0.0.1:5432/${platformDb}`,
    REDIS_URL: `redis://127.0.0.1:6379/${REDIS_DB}`,
    FAULTLINE_PREFIX: platformPrefix,
    SUPERVISOR_URL: `http://127.0.0.1:${supervisorPort}`,
    // nothing listens there: no console link, and never the shop's gateway
    CONSOLE_URL: `http://127.0.0.1:${base + 8}`,
    SHOP_GATEWAY_URL: `http://127.0.0.1:${base + 9}`,
    REPORT_DIR: path.join(dir, 'reports'),
    TOXIPROXY_URL: proxy.url,
    TRANSFERS_URL: `http://127.0.0.1:${port}`,
    TRANSFERS_PORT: String(port),
    TRANSFERS_DB_PROXY: `127.0.0.1:${dbProxy}`,
    TRANSFERS_REDIS_PROXY: `127.0.0.1:${redisProxy}`,
    TRANSFERS_DATABASE_URL: `postgres://postgres@127.0.0.1:5432/${bank}`,
    TRANSFERS_REDIS_PREFIX: transfersPrefix,
    TRANSFERS_BUGS: bugs,
    // the settlement worker is in the gap between debit and credit most of the time under the load:
    // a kill lands there (and the backlog still settles within the experiment's quiescence)
    TRANSFERS_BUG_GAP_MS: String(gapMs),
    TRANSFERS_LOG_FILE: path.join(dir, 'transfers.log'),
    TRANSFERS_PID_FILE: path.join(dir, 'transfers.pid'),
    TRANSFERS_START: `env TRANSFERS_DATABASE_URL=${serviceDb} TRANSFERS_REDIS_URL=${serviceRedis} ${process.execPath} --import tsx ${path.join(root, 'examples/transfers/server.ts')}`,
  };
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'examples/transfers/server.ts')], {
    cwd: root,
    env: { ...env, TRANSFERS_DATABASE_URL: serviceDb, TRANSFERS_REDIS_URL: serviceRedis, TRANSFERS_LOG_FILE: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  cleanups.push(async () => {
    // the run may have started the service again (the target's start command): its pid file names it
    const pid = Number(readFileSync(path.join(dir, 'transfers.pid'), 'utf8').trim());
    if (pid && pid !== child.pid) process.kill(pid, 'SIGKILL');
    child.kill('SIGKILL');
    await proxy.close();
    const redis = new Redis(`redis://127.0.0.1:6379/${REDIS_DB}`);
    for (const p of [`${platformPrefix}*`, `${transfersPrefix}*`]) {
      const keys = await redis.keys(p);
      if (keys.length) await redis.del(...keys);
    }
    redis.disconnect();
    await admin(`DROP DATABASE IF EXISTS ${bank} WITH (FORCE)`);
    await admin(`DROP DATABASE IF EXISTS ${platformDb} WITH (FORCE)`);
    rmSync(dir, { recursive: true, force: true });
  });
  await waitListening(child);
  return { env, supervisor, dir };
}

function faultline(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd: root, env, maxBuffer: 16 << 20 }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const noStack = (s: string) => expect(s).not.toMatch(/^\s+at /m);

describe('faultline run against a target file, without the shop', () => {
  it('the clean transfers service: exit 0, the target checked first, the supervisor never contacted', async () => {
    const s = await startStack('', 19300);
    const r = await faultline(['run', path.join(EXPERIMENTS, 'postgres-reset.yaml'), '--quiet', '--report-dir', path.join(s.dir, 'run')], s.env);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toMatch(/transfers-postgres-reset: PASSED/);
    // one line per piece, before the run
    expect(r.stderr).toMatch(/^ ok {3}entry {2,}GET http:\/\/127\.0\.0\.1:19303\/health → HTTP 200$/m);
    expect(r.stderr).toMatch(/^ ok {3}edges\.toxiproxy /m);
    expect(r.stderr).toMatch(/^ ok {3}edges\.proxies\.transfers->postgres /m);
    expect(r.stderr).toMatch(/^ ok {3}invariants\.money-conserved /m);
    expect(r.stderr.indexOf('edges.toxiproxy')).toBeLessThan(r.stderr.search(/^run \S+: transfers-postgres-reset$/m));
    expect(r.stderr).not.toMatch(/starting the shop/);
    expect(s.supervisor.requests).toEqual([]);
    const report = JSON.parse(readFileSync(path.join(s.dir, 'run', 'report.json'), 'utf8')) as { verdict?: unknown };
    expect(report).toBeTruthy();
    // nothing left on the fault proxy
    const proxies = (await (await fetch(`${s.env.TOXIPROXY_URL}/proxies`)).json()) as Record<string, { toxics: unknown[] }>;
    expect(Object.values(proxies).flatMap((p) => p.toxics)).toEqual([]);

    // refusals, against the same running stack: one line naming the flag, field or piece; no stack trace, no shop
    const bugs = await faultline(['run', path.join(EXPERIMENTS, 'worker-killed.yaml'), '--bugs', 'double-charge'], s.env);
    expect(bugs.code).toBe(2);
    expect(bugs.stderr).toMatch(/^faultline: --bugs switches the bundled shop/m);
    expect(bugs.stderr).toMatch(/^ {2}--bugs: not for a target file/m);
    noStack(bugs.stderr);
    const missing = await faultline(['run', path.join(EXPERIMENTS, 'nope.yaml')], s.env);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^faultline: cannot read experiment file .*nope\.yaml/m);
    noStack(missing.stderr);
    const badTarget = path.join(s.dir, 'bad-target.yaml');
    writeFileSync(
      badTarget,
      readFileSync(path.join(EXPERIMENTS, 'worker-killed.yaml'), 'utf8')
        .replace('target: ../target.yaml', `target: ${path.join(s.dir, 'no-such-target.yaml')}`)
        .replace('../load.yaml', path.join(root, 'examples/transfers/load.yaml')),
    );
    const noTarget = await faultline(['run', badTarget], s.env);
    expect(noTarget.code).toBe(2);
    expect(noTarget.stderr).toMatch(/line \d+: target: no target file at .*no-such-target\.yaml/);
    noStack(noTarget.stderr);
    // the fault proxy the target needs is down: its line FAILs, the run is refused before anything starts
    const down = await faultline(['run', path.join(EXPERIMENTS, 'postgres-reset.yaml')], { ...s.env, TOXIPROXY_URL: 'http://127.0.0.1:19399' });
    expect(down.stderr).toMatch(/^ ok {3}entry /m);
    expect(down.code).toBe(2);
    expect(down.stderr).toMatch(/^FAIL {2}edges\.toxiproxy /m);
    expect(down.stderr).toMatch(/^faultline: not ready \(target transfers: edges\.toxiproxy failed the check\); nothing was started and no fault applied$/m);
    expect(down.stderr).toMatch(/^ {2}transfers-postgres-reset → target transfers edges\.toxiproxy: /m);
    expect(down.stderr).not.toMatch(/^run \S+: /m);
    noStack(down.stderr);
    // a suite mixing the shop and a target file needs the shop: with --use-running it asks the supervisor
    const suite = path.join(s.dir, 'mixed.yaml');
    writeFileSync(
      suite,
      `name: mixed\ndescription: d\nexperiments:\n  - ${path.join(EXPERIMENTS, 'worker-killed.yaml')}\n  - ${path.join(root, 'experiments/payments-latency.yaml')}\n`,
    );
    const mixed = await faultline(['gate', '--suite', suite, '--report-dir', path.join(s.dir, 'gate'), '--use-running', '--quiet'], s.env);
    expect(mixed.code).toBe(2);
    expect(mixed.stderr).toMatch(/no shop supervisor answers at http:\/\/127\.0\.0\.1:19304/);
    expect(s.supervisor.requests).toEqual(['GET /health']);
    // a suite of target files only never asks
    const only = path.join(s.dir, 'only.yaml');
    writeFileSync(only, `name: only\ndescription: d\nexperiments:\n  - ${path.join(EXPERIMENTS, 'worker-killed.yaml')}\n`);
    const gate = await faultline(['gate', '--suite', only, '--report-dir', path.join(s.dir, 'gate'), '--use-running', '--quiet'], s.env);
    expect(gate.code).toBe(2);
    expect(gate.stderr).toMatch(/no faultline worker is connected/);
    expect(s.supervisor.requests).toEqual(['GET /health']);
  }, 600_000);

  it('split-settle: exit 1, the verdict names money-conserved; the supervisor never contacted', async () => {
    const s = await startStack('split-settle', 19320, 150);
    const run = () => faultline(['run', path.join(EXPERIMENTS, 'worker-killed.yaml'), '--quiet', '--report-dir', path.join(s.dir, 'run')], s.env);
    let r = await run();
    // the one kill lands inside a split settlement's gap in most runs, not every run on a loaded machine: up to two more
    for (let attempt = 2; r.code === 0 && attempt <= 3; attempt++) {
      console.log(`split-settle: run ${attempt - 1} passed (the kill missed the gap); running it again`);
      r = await run();
    }
    const summary = readFileSync(path.join(s.dir, 'run', 'summary.md'), 'utf8');
    expect(r.code, `${r.stdout}\n${r.stderr}\n${summary}`).toBe(1);
    expect(r.stdout).toMatch(/transfers-worker-killed: FAILED/);
    expect(`${r.stdout}\n${readFileSync(path.join(s.dir, 'run', 'summary.md'), 'utf8')}`).toMatch(/money-conserved/);
    expect(s.supervisor.requests).toEqual([]);
  }, 600_000);
});
