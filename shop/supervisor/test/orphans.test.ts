/** Reaping instances of a supervisor that died, with real processes. */
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { SupervisorError } from '../errors.js';
import { assertPortsFree, processStart, reapOrphans, stateFilePath, writeState } from '../orphans.js';
import { freePort, waitFor } from './helpers.js';

const fixture = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'tiny-service.mjs');
const children: ChildProcess[] = [];
const dirs: string[] = [];

afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tmp(): string {
  const d = mkdtempSync(path.join(os.tmpdir(), 'fl-orphans-'));
  dirs.push(d);
  return d;
}

/** A process whose command line looks like a shop service entry (shop/services/<x>/main.mjs). */
async function fakeInstance(dir: string): Promise<ChildProcess> {
  const entry = path.join(dir, 'shop', 'services', 'fake', 'main.mjs');
  mkdirSync(path.dirname(entry), { recursive: true });
  copyFileSync(fixture, entry);
  const port = await freePort();
  const c = spawn(process.execPath, [entry], { env: { ...process.env, PORT: String(port) }, stdio: 'ignore' });
  children.push(c);
  await waitFor('fake instance up', async () => (await fetch(`http://127.0.0.1:${port}/health`).catch(() => null))?.ok);
  return c;
}

async function deadPid(): Promise<number> {
  const c = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
  await new Promise((r) => c.on('exit', r));
  return c.pid!;
}

describe('reapOrphans', () => {
  it('kills the recorded instances of a dead supervisor, and only those that are shop services', async () => {
    const dir = tmp();
    const orphan = await fakeInstance(dir);
    const bystander = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    children.push(bystander);
    const file = stateFilePath(dir, 23000);
    writeState(file, {
      supervisorPid: await deadPid(),
      portBase: 23000,
      children: [
        { id: 'payments-0', pid: orphan.pid! },
        { id: 'orders-0', pid: bystander.pid! },
      ],
    });
    const { killed } = await reapOrphans(file, { checkoutRoot: dir });
    expect(killed).toEqual([{ id: 'payments-0', pid: orphan.pid }]);
    await waitFor('orphan gone', () => orphan.signalCode === 'SIGKILL');
    expect(bystander.exitCode).toBeNull();
    expect(bystander.signalCode).toBeNull();
  });

  it('refuses when the recorded supervisor is still alive', async () => {
    const dir = tmp();
    const live = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    children.push(live);
    const file = stateFilePath(dir, 23050);
    const orphanish = { id: 'payments-0', pid: live.pid! };
    writeState(file, { supervisorPid: live.pid!, supervisorStart: processStart(live.pid!), portBase: 23050, children: [orphanish] });
    const err = await reapOrphans(file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SupervisorError);
    expect((err as SupervisorError).message).toContain(`another supervisor (pid ${live.pid})`);
  });

  it('does not mistake a recycled pid for a live supervisor', async () => {
    const dir = tmp();
    const live = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    children.push(live);
    const file = stateFilePath(dir, 23100);
    // same pid, but the recorded supervisor started at another time
    writeState(file, {
      supervisorPid: live.pid!,
      supervisorStart: (processStart(live.pid!) ?? 0) - 1000,
      portBase: 23100,
      children: [{ id: 'x-0', pid: live.pid! }],
    });
    await expect(reapOrphans(file)).resolves.toEqual({ killed: [] });
    expect(live.exitCode).toBeNull();
  });

  it('kills a recorded child whose start time matches', async () => {
    const dir = tmp();
    const orphan = await fakeInstance(dir);
    const file = stateFilePath(dir, 23150);
    writeState(file, { supervisorPid: await deadPid(), portBase: 23150, children: [{ id: 'payments-0', pid: orphan.pid!, start: processStart(orphan.pid!) }] });
    expect((await reapOrphans(file, { checkoutRoot: dir })).killed).toEqual([{ id: 'payments-0', pid: orphan.pid }]);
    await waitFor('orphan gone', () => orphan.signalCode === 'SIGKILL');
  });

  it('never kills a recorded pid whose start time differs (a recycled pid), even a shop service of this checkout', async () => {
    const dir = tmp();
    const other = await fakeInstance(dir);
    const file = stateFilePath(dir, 23200);
    const start = processStart(other.pid!);
    expect(start).not.toBeNull();
    writeState(file, { supervisorPid: await deadPid(), portBase: 23200, children: [{ id: 'payments-0', pid: other.pid!, start: start! - 500 }] });
    expect((await reapOrphans(file, { checkoutRoot: dir })).killed).toEqual([]);
    await new Promise((r) => setTimeout(r, 200));
    expect(other.exitCode).toBeNull();
    expect(other.signalCode).toBeNull();
  });

  it("never kills another checkout's shop service recorded without a start time", async () => {
    const mine = tmp();
    const theirs = tmp();
    const other = await fakeInstance(theirs); // theirs/shop/services/fake/main.mjs
    const file = stateFilePath(mine, 23250);
    writeState(file, { supervisorPid: await deadPid(), portBase: 23250, children: [{ id: 'payments-0', pid: other.pid! }] });
    expect((await reapOrphans(file, { checkoutRoot: mine })).killed).toEqual([]);
    // Without the option the checkout is this repository: still not theirs.
    expect((await reapOrphans(file)).killed).toEqual([]);
    await new Promise((r) => setTimeout(r, 200));
    expect(other.exitCode).toBeNull();
    expect(other.signalCode).toBeNull();
  });

  it('does nothing without a state file', async () => {
    expect(await reapOrphans(path.join(tmp(), 'none.json'))).toEqual({ killed: [] });
  });
});

describe('assertPortsFree', () => {
  it('names every planned port that is taken', async () => {
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const taken = (server.address() as net.AddressInfo).port;
    const free = await freePort();
    try {
      const err = await assertPortsFree('127.0.0.1', [
        { id: 'payments-0', port: taken },
        { id: 'payments-1', port: free },
      ]).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SupervisorError);
      expect((err as SupervisorError).issues).toEqual([{ path: 'instances.payments-0', message: `port ${taken} is in use` }]);
    } finally {
      server.close();
    }
    await expect(assertPortsFree('127.0.0.1', [{ id: 'payments-1', port: free }])).resolves.toBeUndefined();
  });
});
