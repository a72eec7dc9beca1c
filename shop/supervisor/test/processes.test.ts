/**
 * The process manager on real child processes (a tiny HTTP service, not the
 * shop, so restart/backoff/hold semantics are checked in isolation and fast).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { LogRing } from '../logs.js';
import { InstanceManager, type TInstanceManagerOptions } from '../processes.js';
import { freePort, statusOf, waitFor } from './helpers.js';

const fixture = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'tiny-service.mjs');
let manager: InstanceManager | undefined;

async function startTiny(n: number, opts: Partial<TInstanceManagerOptions> = {}, env: Record<string, string> = {}) {
  const logs = new LogRing({ capacity: 1000 });
  manager = new InstanceManager({ logs, healthTimeoutMs: 10_000, backoffInitialMs: 100, stopGraceMs: 2000, ...opts });
  const ports: number[] = [];
  for (let i = 0; i < n; i++) {
    const port = await freePort();
    ports.push(port);
    manager.add({
      id: `tiny-${i}`,
      service: 'tiny',
      index: i,
      port,
      url: `http://127.0.0.1:${port}`,
      healthUrl: `http://127.0.0.1:${port}/health`,
      command: process.execPath,
      args: [fixture],
      cwd: process.cwd(),
      env: { PATH: process.env.PATH ?? '', PORT: String(port), SHOP_INSTANCE_ID: `tiny-${i}`, ...env },
    });
  }
  await manager.startAll();
  return { manager, logs, ports };
}

afterEach(async () => {
  await manager?.stopAll();
  manager = undefined;
});

describe('InstanceManager', () => {
  it('starts every instance and reports it running with its pid', async () => {
    const { manager, ports } = await startTiny(2);
    const list = manager.list();
    expect(list.map((i) => i.state)).toEqual(['running', 'running']);
    expect(list.every((i) => typeof i.pid === 'number' && i.pid > 0)).toBe(true);
    expect(await statusOf(`http://127.0.0.1:${ports[1]}/health`, 10_000)).toBe(200);
  });

  it('restarts an instance killed with SIGKILL, with a new pid', async () => {
    const { manager, ports } = await startTiny(1);
    const before = manager.get('tiny-0');
    manager.kill('tiny-0');
    const after = await waitFor('restart', () => {
      const i = manager.get('tiny-0');
      return i.state === 'running' && i.pid !== before.pid ? i : null;
    });
    expect(after.restarts).toBe(1);
    expect(after.lastExit?.signal).toBe('SIGKILL');
    expect(await statusOf(`http://127.0.0.1:${ports[0]}/health`, 10_000)).toBe(200);
  });

  it('pause stops answers, resume brings them back', async () => {
    const { manager, ports } = await startTiny(1);
    const url = `http://127.0.0.1:${ports[0]}/health`;
    expect(manager.pause('tiny-0').state).toBe('paused');
    expect(await statusOf(url, 300)).toBe(0);
    expect(manager.resume('tiny-0').state).toBe('running');
    expect(await statusOf(url, 10_000)).toBe(200);
  });

  it('kill with hold keeps the instance down until the hold ends', async () => {
    const { manager, ports } = await startTiny(1);
    const url = `http://127.0.0.1:${ports[0]}/health`;
    const killedAt = Date.now();
    manager.kill('tiny-0', 4000);
    await waitFor('stopped', () => manager.get('tiny-0').state === 'stopped');
    expect(manager.get('tiny-0').holdUntil).toBeDefined();
    // inside the hold (a 4 s hold leaves room for a slow machine): still down
    await new Promise((r) => setTimeout(r, 500));
    if (Date.now() - killedAt < 3500) {
      expect(manager.get('tiny-0').state).toBe('stopped');
      expect(await statusOf(url, 200)).toBe(0);
    }
    await waitFor('restart after hold', () => manager.get('tiny-0').state === 'running', 15_000);
    expect(Date.now() - killedAt).toBeGreaterThanOrEqual(4000 - 50);
    expect(await statusOf(url, 10_000)).toBe(200);
  });

  it('start ends a hold early', async () => {
    const { manager } = await startTiny(1);
    manager.kill('tiny-0', 60_000);
    await waitFor('stopped', () => manager.get('tiny-0').state === 'stopped');
    manager.start('tiny-0');
    await waitFor('running', () => manager.get('tiny-0').state === 'running');
    expect(manager.get('tiny-0').holdUntil).toBeUndefined();
  });

  it('restarts a crashed instance with backoff and logs the crash', async () => {
    const { manager, logs, ports } = await startTiny(1);
    await statusOf(`http://127.0.0.1:${ports[0]}/crash`);
    await waitFor('crash seen', () => manager.get('tiny-0').lastExit?.code === 3);
    await waitFor('restarted', () => manager.get('tiny-0').state === 'running' && manager.get('tiny-0').restarts === 1);
    const lines = logs.read(0, 1000).lines.map((l) => JSON.parse(l.line) as { msg: string; source?: string });
    expect(lines.some((l) => l.source === 'stderr' && l.msg.includes('asked to crash'))).toBe(true);
    expect(lines.some((l) => l.msg.startsWith('instance crashed, restarting in'))).toBe(true);
  });

  it('leaves a crashed instance down when restarts are off', async () => {
    const { manager, ports } = await startTiny(1, { restart: false });
    await statusOf(`http://127.0.0.1:${ports[0]}/crash`);
    await waitFor('crashed', () => manager.get('tiny-0').state === 'crashed');
    await new Promise((r) => setTimeout(r, 400));
    expect(manager.get('tiny-0').state).toBe('crashed');
    expect(manager.get('tiny-0').pid).toBeNull();
  });

  it('graceful restart sends SIGTERM and starts again', async () => {
    const { manager, logs } = await startTiny(1);
    const pid = manager.get('tiny-0').pid;
    manager.restart('tiny-0');
    await waitFor('restarted', () => manager.get('tiny-0').state === 'running' && manager.get('tiny-0').pid !== pid);
    expect(manager.get('tiny-0').lastExit).toMatchObject({ code: 0, signal: null });
    expect(logs.read(0, 1000).lines.some((l) => l.line.includes('"stopping"'))).toBe(true);
  });

  it('refuses process faults that do not fit the state, naming the instance', async () => {
    const { manager } = await startTiny(1);
    expect(() => manager.resume('tiny-0')).toThrow(/tiny-0 is not paused/);
    expect(() => manager.kill('nope-3')).toThrow(/no instance nope-3/);
    expect(() => manager.start('tiny-0')).toThrow(/already running/);
  });

  it('fails the start fast, with the reason, when an instance keeps crashing before it is healthy', async () => {
    const t0 = Date.now();
    const err = await startTiny(1, { healthTimeoutMs: 30_000, backoffInitialMs: 50 }, { TINY_FAIL_AT_START: 'SHOP_BUGS: unknown bug switch' }).catch(
      (e: unknown) => e as Error,
    );
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toContain('instances keep crashing at start');
    expect((err as Error).message).toContain('tiny: bad configuration: SHOP_BUGS: unknown bug switch');
    expect((err as Error).message).toContain('code 2');
    // before the health timeout could have ended it: that path takes at least 30 s on any machine
    expect(Date.now() - t0).toBeLessThan(30_000);
  });

  it('stopAll ends every child and no restart follows', async () => {
    const { manager, ports } = await startTiny(2);
    manager.pause('tiny-1');
    await manager.stopAll();
    expect(manager.list().map((i) => [i.state, i.pid])).toEqual([
      ['stopped', null],
      ['stopped', null],
    ]);
    await new Promise((r) => setTimeout(r, 300));
    expect(await statusOf(`http://127.0.0.1:${ports[0]}/health`, 200)).toBe(0);
    expect(manager.list().every((i) => i.state === 'stopped')).toBe(true);
  });
});
