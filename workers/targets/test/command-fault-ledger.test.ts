/**
 * Issue 12: a target's command-driven process faults are in the fault
 * ledger, so they never outlive their run. A real process is paused with the
 * target file's `kill -STOP {pid}`; the process that paused it is killed
 * (SIGKILL) and the reconciler resumes it; the safety lever's halt resumes
 * it; a normal removal closes the row. A target's network faults are undone
 * on its own Toxiproxy, whatever the platform's is.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { eq } from 'drizzle-orm';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyFault, clearLever, haltAll, reconcileFaults, startFaultProxy, type TFaultContext, type TFaultProxy, type TUndo } from '../../../chaos/index.js';
import { AppError } from '../../../core/errors.js';
import { closeDb, getDb, type TDb } from '../../../db/client.js';
import { dropDatabase, migrateDatabase } from '../../../db/migrate.js';
import { faults } from '../../../db/schema/index.js';
import { loadTarget } from '../../../targets/index.js';
import type { TPlatform } from '../../platform.js';
import type { TRunnerDeps, TSystemUnderTest } from '../../runner/ports.js';
import { targetSystem } from '../../runner/target-system.js';
import { engageLever } from '../../runs/engage-lever.js';
import { undoCommandFault } from '../index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const PLATFORM_PROXY_PORT = 18131;
const OWN_PROXY_PORT = 18132;

let dbUrl: string;
let db: TDb;
let dir: string;
let targetFile: string;
let platformProxy: TFaultProxy;
const services: ChildProcess[] = [];
/** Processes a target's `start` launched (detached): killed at the end. */
const launched: number[] = [];
let serviceNo = 0;

/** The state letter of /proc/<pid>/stat (R, S, T stopped, Z …). */
async function stateOf(pid: number): Promise<string> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
}

/** Poll until `ok()`; a generous deadline (the machine may be busy), never a timing assertion. */
async function waitFor(what: string, ok: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A service the target's commands act on: a node process whose pid is in its pid file; the target file lists it. */
async function startService(): Promise<{ pid: number; instance: string }> {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  services.push(child);
  const instance = `svc-${serviceNo++}`;
  await writeFile(path.join(dir, `${instance}.pid`), `${child.pid}\n`);
  await waitFor('service running', async () => ['R', 'S'].includes(await stateOf(child.pid!).catch(() => '')));
  return { pid: child.pid!, instance };
}

async function writeTarget(instances: string[]): Promise<void> {
  const yaml = [
    'name: cmd-ledger',
    'description: a node process paused and resumed by its own commands',
    'entry: { url: http://127.0.0.1:18133 }',
    'processes:',
    '  kind: commands',
    '  instances:',
    ...instances.map((i) => `    - { id: ${i}, service: svc, pid_file: ${path.join(dir, `${i}.pid`)} }`),
    '  commands:',
    '    pause: kill -STOP {pid}',
    '    resume: kill -CONT {pid}',
    '',
  ].join('\n');
  await writeFile(targetFile, yaml);
}

async function system(): Promise<TSystemUnderTest> {
  const { target, file } = await loadTarget(targetFile);
  return targetSystem(target, { toxiproxyUrl: platformProxy.url } as TPlatform, {} as TRunnerDeps, file);
}

const ctxOf = (sut: TSystemUnderTest, runId: string): TFaultContext => ({ ...sut.faultUrls, db, runId });
const rowOf = async (id: string) => (await db.select().from(faults).where(eq(faults.id, id)))[0];

beforeAll(async () => {
  dbUrl = `postgres://postgres@127.0.0.1:5432/fl_h1_${randomBytes(5).toString('hex')}`;
  await migrateDatabase(dbUrl);
  db = getDb(dbUrl);
  dir = await mkdtemp(path.join(tmpdir(), 'fl-h1-'));
  targetFile = path.join(dir, 'target.yaml');
  platformProxy = await startFaultProxy({ port: PLATFORM_PROXY_PORT });
}, 60_000);

afterAll(async () => {
  for (const s of services) {
    try {
      if (s.pid) process.kill(s.pid, 'SIGCONT');
    } catch {
      // already gone
    }
    s.kill('SIGKILL');
  }
  for (const pid of launched) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await platformProxy?.close();
  await closeDb(dbUrl);
  await dropDatabase(dbUrl);
  await rm(dir, { recursive: true, force: true });
});

describe('command-driven process faults in the fault ledger', () => {
  it('a normal removal resumes the instance and closes its ledger row, which names the target file and no command', async () => {
    const svc = await startService();
    await writeTarget([svc.instance]);
    const sut = await system();
    const h = await sut.applyFault({ type: 'pause', target: svc.instance, params: {} }, ctxOf(sut, 'run-normal'));
    await waitFor('paused', async () => (await stateOf(svc.pid)) === 'T');
    const open = await rowOf(h.id);
    expect(open).toMatchObject({ type: 'pause', target: svc.instance, runId: 'run-normal', status: 'active', removedAt: null });
    expect((open!.undo as TUndo).commands).toEqual([{ targetFile, instance: svc.instance, fault: 'pause' }]);
    expect(JSON.stringify(open!.undo)).not.toContain('kill -');

    await h.remove();
    expect(await stateOf(svc.pid)).not.toBe('T');
    const closed = await rowOf(h.id);
    expect(closed!.status).toBe('removed');
    expect(closed!.removedAt).not.toBeNull();
  });

  it('a runner killed (SIGKILL) while its instance is paused: the reconciler resumes it and closes the row (holder gone)', async () => {
    const svc = await startService();
    await writeTarget([svc.instance]);
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'command-fault-child.ts')], {
      env: {
        ...process.env,
        FL_DATABASE_URL: dbUrl,
        FL_TARGET_FILE: targetFile,
        FL_TOXIPROXY_URL: platformProxy.url,
        FL_RUN_ID: 'run-crashed',
        FL_FAULT: JSON.stringify({ type: 'pause', target: svc.instance, params: {} }),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise((r) => child.on('exit', r));
    await waitFor(`the child to apply the fault (stderr: ${err})`, async () => /applied (\S+)/.test(out), 60_000);
    const id = /applied (\S+)/.exec(out)![1];
    expect(await stateOf(svc.pid)).toBe('T');
    child.kill('SIGKILL');
    await exited;
    // still paused: nobody removed it
    expect(await stateOf(svc.pid)).toBe('T');
    expect((await rowOf(id))!.removedAt).toBeNull();

    // the run is still "active" as far as the reconciler is told: only the dead holder makes it an orphan
    const r = await reconcileFaults({ toxiproxyUrl: platformProxy.url, supervisorUrl: '', db, undoCommand: undoCommandFault }, { isRunActive: () => true });
    expect(r.failed).toEqual([]);
    expect(r.removed).toEqual([{ id, type: 'pause', target: svc.instance, runId: 'run-crashed', reason: 'holder-gone' }]);
    await waitFor('resumed', async () => (await stateOf(svc.pid)) !== 'T');
    const row = await rowOf(id);
    expect(row!.status).toBe('removed');
    expect(row!.removedAt).not.toBeNull();
  }, 90_000);

  it('a run that ended with its instance paused (the handle dropped): the reconciler resumes it (run ended)', async () => {
    const svc = await startService();
    await writeTarget([svc.instance]);
    const sut = await system();
    const h = await sut.applyFault({ type: 'pause', target: svc.instance, params: {} }, ctxOf(sut, 'run-ended'));
    await waitFor('paused', async () => (await stateOf(svc.pid)) === 'T');
    const r = await reconcileFaults(
      { toxiproxyUrl: platformProxy.url, supervisorUrl: '', db, undoCommand: undoCommandFault },
      { isRunActive: (id) => id !== 'run-ended' },
    );
    expect(r.removed.map((x) => [x.id, x.reason])).toEqual([[h.id, 'run-ended']]);
    await waitFor('resumed', async () => (await stateOf(svc.pid)) !== 'T');
    expect((await rowOf(h.id))!.removedAt).not.toBeNull();
  });

  it('the safety lever (halt) resumes a paused instance of a still-active run and closes its row', async () => {
    const svc = await startService();
    await writeTarget([svc.instance]);
    const sut = await system();
    const h = await sut.applyFault({ type: 'pause', target: svc.instance, params: {} }, ctxOf(sut, 'run-halted'));
    await waitFor('paused', async () => (await stateOf(svc.pid)) === 'T');
    const redis = new Redis('redis://127.0.0.1:6379/9', { maxRetriesPerRequest: 1 });
    try {
      const r = await engageLever(
        { db, redis, prefix: `fl_h1_${randomBytes(4).toString('hex')}`, toxiproxyUrl: platformProxy.url, supervisorUrl: '' },
        { by: 'test', reason: 'issue 12' },
        { redeliverForMs: 0 },
      );
      expect(r.halt.errors.filter((e) => e.component === 'target')).toEqual([]);
      expect(r.halt.instancesResumed).toContain(svc.instance);
      expect(r.halt.removed.map((x) => x.id)).toContain(h.id);
    } finally {
      await clearLever(db, { by: 'test' });
      redis.disconnect();
    }
    await waitFor('resumed', async () => (await stateOf(svc.pid)) !== 'T');
    expect((await rowOf(h.id))!.removedAt).not.toBeNull();
  });

  it('haltAll without a command undoer leaves the row open (failed), naming why; with one it resumes', async () => {
    const svc = await startService();
    await writeTarget([svc.instance]);
    const sut = await system();
    const h = await sut.applyFault({ type: 'pause', target: svc.instance, params: {} }, ctxOf(sut, 'run-halt-2'));
    const bare = await haltAll({ toxiproxyUrl: platformProxy.url, supervisorUrl: '', db });
    expect(bare.errors.find((e) => e.component === 'target')?.message).toMatch(new RegExp(`${h.id}.*faultline worker or the safety lever`));
    expect(await stateOf(svc.pid)).toBe('T');
    expect((await rowOf(h.id))!).toMatchObject({ status: 'failed', removedAt: null });

    const r = await haltAll({ toxiproxyUrl: platformProxy.url, supervisorUrl: '', db, undoCommand: undoCommandFault });
    expect(r.instancesResumed).toEqual([svc.instance]);
    await waitFor('resumed', async () => (await stateOf(svc.pid)) !== 'T');
    expect((await rowOf(h.id))!.status).toBe('removed');
  });

  it('a ledger row altered to name another file or instance runs nothing and says which field is wrong', async () => {
    const svc = await startService();
    await writeTarget([svc.instance]);
    const base = { runId: 'run-tampered', type: 'pause', params: {}, status: 'active' as const };
    await db.insert(faults).values([
      { ...base, id: 'flt_tampered_1', target: 'x', undo: { commands: [{ targetFile: '/etc/passwd', instance: svc.instance, fault: 'pause' }] } },
      { ...base, id: 'flt_tampered_2', target: 'x', undo: { commands: [{ targetFile, instance: 'svc-0; touch /tmp/x', fault: 'pause' }] } },
      { ...base, id: 'flt_tampered_3', target: 'x', undo: { commands: [{ targetFile, instance: svc.instance, fault: 'rm -rf' }] } },
    ]);
    const r = await reconcileFaults({ toxiproxyUrl: platformProxy.url, supervisorUrl: '', db, undoCommand: undoCommandFault }, { isRunActive: () => false });
    const byId = Object.fromEntries(r.failed.map((f) => [f.id, f.error]));
    expect(byId.flt_tampered_1).toMatch(/undo\.commands targetFile: must be the absolute path of a target file/);
    expect(byId.flt_tampered_2).toMatch(/undo\.commands instance: "svc-0; touch \/tmp\/x" is not an instance of/);
    expect(byId.flt_tampered_3).toMatch(/undo\.commands fault: must be kill, pause or restart/);
    await db.update(faults).set({ removedAt: new Date(), status: 'removed' }).where(eq(faults.runId, 'run-tampered'));
  });

  it('refuses a fault on an instance the target does not declare, naming the field, before writing a ledger row', async () => {
    await writeTarget(['svc-only']);
    const sut = await system();
    const before = (await db.select().from(faults)).length;
    const e = await sut.applyFault({ type: 'pause', target: 'nope', params: {} }, ctxOf(sut, 'run-bad')).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(AppError);
    expect((e as AppError).code).toBe('VALIDATION');
    expect((e as AppError).issues).toEqual([{ path: 'target', message: 'unknown instance "nope"; the target\'s instances: svc-only' }]);
    expect((await db.select().from(faults)).length).toBe(before);
  });
});

describe('a killed instance', () => {
  it("is started again by the reconciler with the target's `start` once its run ended, and never twice", async () => {
    const svc = await startService();
    const pidFile = path.join(dir, `${svc.instance}.pid`);
    const killFile = path.join(dir, 'kill-target.yaml');
    const node = process.execPath;
    await writeFile(
      killFile,
      [
        'name: cmd-ledger-kill',
        'description: a node process killed and started by its own commands',
        'entry: { url: http://127.0.0.1:18133 }',
        'processes:',
        '  kind: commands',
        `  instances: [{ id: ${svc.instance}, service: svc, pid_file: ${pidFile} }]`,
        '  commands:',
        '    kill: kill -KILL {pid}',
        `    start: '${node} -e "require(\\"fs\\").writeFileSync(\\"${pidFile}\\", String(process.pid)); setInterval(() => {}, 1000)"'`,
        '',
      ].join('\n'),
    );
    const { target, file } = await loadTarget(killFile);
    const sut = targetSystem(target, { toxiproxyUrl: platformProxy.url } as TPlatform, {} as TRunnerDeps, file);
    const h = await sut.applyFault({ type: 'kill', target: svc.instance, params: {} }, ctxOf(sut, 'run-killed'));
    await waitFor('killed', async () => ['Z', ''].includes(await stateOf(svc.pid).catch(() => '')));
    expect(((await rowOf(h.id))!.undo as TUndo).commands).toEqual([{ targetFile: killFile, instance: svc.instance, fault: 'kill' }]);

    const ctx = { toxiproxyUrl: platformProxy.url, supervisorUrl: '', db, undoCommand: undoCommandFault };
    const r = await reconcileFaults(ctx, { isRunActive: (id) => id !== 'run-killed' });
    expect(r.failed).toEqual([]);
    expect(r.removed.map((x) => x.id)).toEqual([h.id]);
    let started = 0;
    await waitFor('started again (a new pid in the pid file)', async () => {
      started = Number((await readFile(pidFile, 'utf8')).trim());
      return started !== svc.pid && ['R', 'S'].includes(await stateOf(started).catch(() => ''));
    });
    launched.push(started);
    // the same record undone again (a halt racing the reconciler): the instance is back, nothing is started
    expect(await undoCommandFault({ targetFile: killFile, instance: svc.instance, fault: 'kill' })).toBe('none');
    expect(Number((await readFile(pidFile, 'utf8')).trim())).toBe(started);
  });
});

describe("a target's network faults on its own Toxiproxy", () => {
  it('are recorded with that Toxiproxy and undone there by the reconciler, whatever the platform proxy is', async () => {
    const own = await startFaultProxy({ port: OWN_PROXY_PORT });
    try {
      await fetch(`${own.url}/proxies`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'api->db', listen: '127.0.0.1:18134', upstream: '127.0.0.1:18135', enabled: true }),
      });
      const f = await applyFault(
        { type: 'latency', target: 'api->db', params: { latencyMs: 200 } },
        { toxiproxyUrl: own.url, supervisorUrl: '', db, runId: 'run-net' },
      );
      const toxicsOnOwn = async () => ((await (await fetch(`${own.url}/proxies/api-%3Edb/toxics`)).json()) as { name: string }[]).map((t) => t.name);
      expect((await toxicsOnOwn()).length).toBe(1);
      expect(((await rowOf(f.id))!.undo as TUndo).toxiproxyUrl).toBe(own.url);

      const r = await reconcileFaults({ toxiproxyUrl: platformProxy.url, supervisorUrl: '', db }, { isRunActive: (id) => id !== 'run-net' });
      expect(r.failed).toEqual([]);
      expect(r.removed.map((x) => x.id)).toEqual([f.id]);
      expect(await toxicsOnOwn()).toEqual([]);
    } finally {
      await own.close();
    }
  });
});
