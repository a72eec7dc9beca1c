import { spawn } from 'node:child_process';
import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { holderAlive, orphanReason } from './reconcile.js';

const now = new Date('2026-01-01T12:00:00Z');
const base = { runId: 'run-1', expiresAt: null, status: 'active' as const };

describe('orphanReason', () => {
  it('leaves a fault of an active run with a live holder alone', () => {
    expect(orphanReason(base, { now, runActive: true, holderAlive: true })).toBeNull();
  });
  it('removes a fault whose run ended', () => {
    expect(orphanReason(base, { now, runActive: false, holderAlive: true })).toBe('run-ended');
  });
  it('removes a fault whose expiry passed even while its run is active', () => {
    expect(orphanReason({ ...base, expiresAt: new Date(now.getTime() - 1) }, { now, runActive: true, holderAlive: true })).toBe('expired');
    expect(orphanReason({ ...base, expiresAt: new Date(now.getTime() + 1000) }, { now, runActive: true, holderAlive: true })).toBeNull();
  });
  it('removes a fault whose applying process died', () => {
    expect(orphanReason(base, { now, runActive: true, holderAlive: false })).toBe('holder-gone');
  });
  it('retries a failed removal', () => {
    expect(orphanReason({ ...base, status: 'failed' }, { now, runActive: true, holderAlive: true })).toBe('removal-failed');
  });
  it('keeps a detached fault without run or expiry', () => {
    expect(orphanReason({ runId: null, expiresAt: null, status: 'active' }, { now, runActive: undefined, holderAlive: undefined })).toBeNull();
  });
});

describe('holderAlive', () => {
  it('knows this process is alive and a reaped child is not', async () => {
    expect(holderAlive(`${hostname()}:${process.pid}`)).toBe(true);
    const child = spawn(process.execPath, ['-e', '0']);
    const pid = child.pid!;
    await new Promise((r) => child.on('exit', r));
    expect(holderAlive(`${hostname()}:${pid}`)).toBe(false);
  });
  it('cannot tell for another host or no holder', () => {
    expect(holderAlive('some-other-host:1')).toBeUndefined();
    expect(holderAlive(null)).toBeUndefined();
  });
});
