/**
 * A target file's logs in a run: the transfers example writes JSON lines
 * (with `transferId`) to a file, its target says `logs: {kind: file}`; a run
 * through a real worker ships the lines of the run window into the
 * platform's log store tagged with the run, and with the split-settle bug the
 * failing ledger violation carries a trail of the log lines naming its
 * transfer.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { startFaultProxy } from '../../../chaos/index.js';
import { closeDb } from '../../../db/client.js';
import { dropDatabase, migrateDatabase } from '../../../db/migrate.js';
import { loadExperimentFile } from '../../../experiments/index.js';
import { enqueueRun, getPlatform, getReport, startWorker, waitForRun, type TPlatform } from '../../index.js';
import { admin, waitListening } from '../../../examples/transfers/test/harness.js';

const root = path.resolve(import.meta.dirname, '../../..');
const EXPERIMENT = path.join(root, 'examples/transfers/experiments/worker-killed.yaml');
const cleanups: (() => Promise<void>)[] = [];
const savedEnv = { ...process.env };
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
  for (const k of Object.keys(process.env)) if (!(k in savedEnv)) delete process.env[k];
  Object.assign(process.env, savedEnv);
}, 120_000);

// this file's ports (19600–19699)
const PORTS = { service: 19641, dbProxy: 19642, redisProxy: 19643, faultProxy: 19644 };

/** The example behind the fault proxy, writing its JSON lines to `logFile` (the target's logs.path). */
async function startStack(bugs: string): Promise<{ platform: TPlatform; logFile: string }> {
  const tag = randomBytes(4).toString('hex');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fl-h6-logs-'));
  const bank = `fl_h6_bank_${tag}`;
  const platformUrl = `postgres://postgres@127.0.0.1:5432/fl_h6_platform_${tag}`;
  // dropped whatever happens next (a port in use, a service that does not start)
  cleanups.push(async () => {
    await admin(`DROP DATABASE IF EXISTS ${bank} WITH (FORCE)`);
    await closeDb(platformUrl);
    await dropDatabase(platformUrl);
    rmSync(dir, { recursive: true, force: true });
  });
  await admin(`CREATE DATABASE ${bank}`);
  await migrateDatabase(platformUrl);
  const proxy = await startFaultProxy({ host: '127.0.0.1', port: PORTS.faultProxy });
  for (const [name, listen, upstream] of [
    ['transfers->postgres', PORTS.dbProxy, 5432],
    ['transfers->redis', PORTS.redisProxy, 6379],
  ] as const) {
    const r = await fetch(`${proxy.url}/proxies`, {
      method: 'POST',
      body: JSON.stringify({ name, listen: `127.0.0.1:${listen}`, upstream: `127.0.0.1:${upstream}` }),
    });
    expect(r.status).toBe(201);
  }
  const logFile = path.join(dir, 'transfers.log');
  // lines from before the run: the reader starts at the file's end, so these are never shipped
  writeFileSync(logFile, `${JSON.stringify({ ts: new Date(0).toISOString(), level: 'info', msg: 'before the run', transferId: 'old' })}\n`);
  const serviceDb = `postgres://postgres@127.0.0.1:${PORTS.dbProxy}/${bank}`;
  const serviceRedis = `redis://127.0.0.1:${PORTS.redisProxy}`;
  Object.assign(process.env, {
    TRANSFERS_URL: `http://127.0.0.1:${PORTS.service}`,
    TRANSFERS_PORT: String(PORTS.service),
    TOXIPROXY_URL: proxy.url,
    TRANSFERS_DB_PROXY: `127.0.0.1:${PORTS.dbProxy}`,
    TRANSFERS_REDIS_PROXY: `127.0.0.1:${PORTS.redisProxy}`,
    TRANSFERS_DATABASE_URL: `postgres://postgres@127.0.0.1:5432/${bank}`,
    TRANSFERS_REDIS_PREFIX: `fl_h6_${tag}:`,
    TRANSFERS_BUGS: bugs,
    TRANSFERS_BUG_GAP_MS: '60',
    TRANSFERS_LOG_FILE: logFile,
    TRANSFERS_PID_FILE: path.join(dir, 'transfers.pid'),
    TRANSFERS_START: `env TRANSFERS_DATABASE_URL=${serviceDb} TRANSFERS_REDIS_URL=${serviceRedis} ${process.execPath} --import tsx ${path.join(root, 'examples/transfers/server.ts')}`,
  });
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'examples/transfers/server.ts')], {
    cwd: root,
    env: { ...process.env, TRANSFERS_DATABASE_URL: serviceDb, TRANSFERS_REDIS_URL: serviceRedis },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await waitListening(child);
  const platform = getPlatform({
    databaseUrl: platformUrl,
    redisUrl: 'redis://127.0.0.1:6379/14',
    prefix: `fl_h6_${tag}`,
    toxiproxyUrl: proxy.url,
    supervisorUrl: 'http://127.0.0.1:9',
    reportDir: dir,
  });
  const worker = await startWorker({ platform, log: () => undefined });
  cleanups.push(async () => {
    await worker.stop();
    const pid = Number(readFileSync(path.join(dir, 'transfers.pid'), 'utf8').trim());
    if (pid) process.kill(pid, 'SIGKILL');
    child.kill('SIGKILL');
    await platform.queue.obliterate({ force: true }).catch(() => undefined);
    await platform.close();
    await proxy.close();
    for (const url of ['redis://127.0.0.1:6379/14', 'redis://127.0.0.1:6379']) {
      const redis = new Redis(url);
      const keys = await redis.keys(`fl_h6_${tag}*`);
      if (keys.length) await redis.del(...keys);
      redis.disconnect();
    }
  });
  return { platform, logFile };
}

type TTrail = { at: string | null; source: string; text: string }[];
type TReportInvariants = { name: string; pass: boolean; violations: { ids: string[]; message: string; trail?: TTrail }[] }[];

describe("a target file's logs in a run", () => {
  it('split-settle: the run stores the log file lines of its window, and the ledger violation has a trail of its transfer', async () => {
    const { platform, logFile } = await startStack('split-settle');
    const experiment = await loadExperimentFile(EXPERIMENT);
    const { runId } = await enqueueRun(platform, { experiment, sourcePath: EXPERIMENT, trigger: 'cli' });
    const run = await waitForRun(platform, runId, { timeoutMs: 300_000 });

    // the run's stored logs: the service's JSON lines of the window, tagged with the run, parsed into fields
    const stored = [];
    let cursor: string | undefined;
    do {
      const page = await platform.logStore.search({ runId, limit: 5000, ...(cursor ? { cursor } : {}) });
      stored.push(...page.records);
      cursor = page.next;
    } while (cursor);
    const fileLines = readFileSync(logFile, 'utf8').split('\n').filter(Boolean);
    console.log(JSON.stringify({ state: run?.state, reason: run?.reason, stored: stored.length, fileLines: fileLines.length }));
    const accepted = stored.filter((r) => r.msg === 'transfer accepted');
    expect(accepted.length).toBeGreaterThan(10);
    expect(typeof accepted[0]!.fields.transferId).toBe('string');
    expect(accepted.every((r) => r.service === 'transfers' && r.runId === runId && r.level === 'info')).toBe(true);
    expect(stored.some((r) => r.msg === 'before the run')).toBe(false);
    // everything the file got during the run was shipped (the reader stops at the run's end)
    expect(stored.length).toBeLessThanOrEqual(fileLines.length - 1);

    // the one kill lands inside a split settlement's gap in most runs, not in every run on a loaded
    // machine (two suites of this kind side by side missed it once): up to two more runs
    let judged = { state: run!.state, runId };
    for (let attempt = 2; judged.state === 'passed' && attempt <= 3; attempt++) {
      console.log(`split-settle: run ${attempt - 1} passed (the kill missed the gap); running the experiment again`);
      const again = await enqueueRun(platform, { experiment, sourcePath: EXPERIMENT, trigger: 'cli' });
      judged = { state: (await waitForRun(platform, again.runId, { timeoutMs: 300_000 }))!.state, runId: again.runId };
    }
    expect(judged.state).toBe('failed');
    const report = (await getReport(platform, judged.runId)) as { report: { invariants: TReportInvariants } };
    const failing = report.report.invariants.filter((i) => !i.pass);
    console.log(
      JSON.stringify(
        failing.map((i) => ({ name: i.name, v: i.violations.slice(0, 2) })),
        null,
        1,
      ).slice(0, 6000),
    );
    const withIds = failing.flatMap((i) => i.violations).filter((v) => v.ids.length > 0 && v.trail);
    expect(withIds.length).toBeGreaterThan(0);
    // a trail step is a log line of the service naming one of the violation's ids
    const named = withIds.filter((v) => v.trail!.some((s) => s.source.startsWith('log ') && v.ids.some((id) => s.text.includes(id))));
    expect(named.length).toBeGreaterThan(0);
    // and the report names its transfer's lines: accepted, then the split settlement
    expect(named[0]!.trail!.some((s) => s.text.includes('transfer accepted'))).toBe(true);
    // beside the lines, the target's `trails` queries: the transfer's row and its ledger legs
    expect(named[0]!.trail!.map((s) => s.source)).toEqual(expect.arrayContaining(['bank.transfers', 'bank.ledger']));
  }, 600_000);
});
