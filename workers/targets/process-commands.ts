/**
 * Process faults of a target whose `processes` are commands (`kind:
 * commands`): kill / pause / restart one instance by running the command the
 * target file gives — only those, never one from an API body — with
 * `{instance}`, `{pid}` (read from the instance's pid file) and `{service}`
 * filled in. Each apply returns the removal: start (or restart) after a
 * kill, resume after a pause.
 *
 *   kill ──▶ `kill` command ──(removal)──▶ `start` (launched, not awaited) | `restart`
 *   pause ─▶ `pause` command ─(removal)──▶ `resume`
 *   restart ▶ `restart` command (nothing to remove)
 *
 * `start` launches the service: it runs detached and is not waited for (the
 * settle phase and the next steady state find out whether it came up); every
 * other command must exit 0 within the target's `timeout`. A killed instance
 * whose pid file names a live process is already back (its own supervisor,
 * or another undo): it is not started twice.
 *
 * The fault ledger (chaos/) records each such fault as `TCommandUndo` —
 * target file, instance, fault — never a command line: `undoCommandFault`
 * re-reads and re-validates that file and runs its own commands, so a
 * reconciler or a halt in another process undoes it after a crash, and a row
 * a database writer altered can run nothing the file does not allow.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { TCommandUndo } from '../../chaos/index.js';
import { AppError } from '../../core/errors.js';
import { loadTarget, type TTargetProcesses } from '../../targets/index.js';

type TCommandProcesses = Extract<TTargetProcesses, { kind: 'commands' }>;
type TInstanceDef = TCommandProcesses['instances'][number];

/** The instance's pid, from its pid file (undefined without one). */
async function pidOf(inst: TInstanceDef): Promise<string | undefined> {
  if (!inst.pid_file) return undefined;
  const text = (await readFile(inst.pid_file, 'utf8').catch(() => '')).trim();
  return /^\d+$/.test(text) ? text : undefined;
}

async function fill(command: string, inst: TInstanceDef): Promise<string> {
  let out = command.replaceAll('{instance}', inst.id).replaceAll('{service}', inst.service);
  if (out.includes('{pid}')) {
    const pid = await pidOf(inst);
    if (!pid) throw new AppError('UNAVAILABLE', `instance ${inst.id}: no pid in ${inst.pid_file ?? '(no pid_file)'} for "${command}"`);
    out = out.replaceAll('{pid}', pid);
  }
  return out;
}

/** Run one command to its end; AppError when it fails or outlives `timeoutMs`. */
function runToEnd(command: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', command], { stdio: ['ignore', 'ignore', 'pipe'], timeout: timeoutMs, killSignal: 'SIGKILL' });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-500)));
    child.on('error', (e) => reject(new AppError('UNAVAILABLE', `command "${command}" could not run: ${e.message}`)));
    child.on('exit', (code, signal) => {
      if (code === 0) resolve();
      else
        reject(
          new AppError('UNAVAILABLE', `command "${command}" ${signal ? `was stopped (${signal}, timeout ${timeoutMs} ms)` : `exited ${code}`}: ${err.trim()}`),
        );
    });
  });
}

/** Launch a long-running command (the service itself), detached; fails only when it exits at once with an error. */
function launch(command: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', command], { stdio: 'ignore', detached: true });
    const early = setTimeout(() => {
      child.removeAllListeners();
      child.unref();
      resolve();
    }, 500);
    child.on('error', (e) => (clearTimeout(early), reject(new AppError('UNAVAILABLE', `command "${command}" could not run: ${e.message}`))));
    child.on('exit', (code) => {
      clearTimeout(early);
      if (code === 0) resolve();
      else reject(new AppError('UNAVAILABLE', `command "${command}" exited ${code} at once`));
    });
  });
}

function instanceOf(p: TCommandProcesses, id: string): TInstanceDef {
  const inst = p.instances.find((i) => i.id === id);
  if (!inst)
    throw new AppError('VALIDATION', `unknown instance "${id}"`, {
      issues: [{ path: 'target', message: `unknown instance "${id}"; the target's instances: ${p.instances.map((i) => i.id).join(', ')}` }],
    });
  return inst;
}

function need(p: TCommandProcesses, name: keyof TCommandProcesses['commands'], type: string): string {
  const c = p.commands[name];
  if (!c)
    throw new AppError('VALIDATION', `the target has no processes.commands.${name}`, { issues: [{ path: 'type', message: `no ${type} faults without it` }] });
  return c;
}

/** Whether `pid` is a live process (a zombie, killed and not yet reaped, is not). */
async function alive(pid: string): Promise<boolean> {
  try {
    process.kill(Number(pid), 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  return !/^\d+ \(.*\) Z/s.test(stat);
}

/** Bring a killed instance back: `start` (launched) or `restart`, unless its pid file names a live process. */
async function bringBack(p: TCommandProcesses, inst: TInstanceDef, run: (name: 'restart') => Promise<void>): Promise<'started' | 'none'> {
  const pid = await pidOf(inst);
  if (pid && (await alive(pid))) return 'none';
  if (p.commands.start) await launch(await fill(p.commands.start, inst));
  else await run('restart');
  return 'started';
}

/** Refuse, naming the field, a fault the target's commands cannot apply or undo (an unknown instance, a missing command). */
export function checkCommandFault(p: TCommandProcesses, type: string, target: string): void {
  instanceOf(p, target);
  if (type === 'kill' || type === 'pause' || type === 'restart') need(p, type, type);
  else
    throw new AppError('VALIDATION', `${type} needs a faultline supervisor`, {
      issues: [{ path: 'type', message: `${type}: the target's processes are commands (kill, pause, restart only)` }],
    });
}

/** Apply a process fault (`kill`, `pause`, `restart`) to one instance; resolves to its removal. */
export async function applyCommandFault(p: TCommandProcesses, type: string, target: string): Promise<() => Promise<void>> {
  const inst = instanceOf(p, target);
  const run = async (name: keyof TCommandProcesses['commands']) => runToEnd(await fill(need(p, name, type), inst), p.timeout);
  switch (type) {
    case 'kill': {
      await run('kill');
      return async () => void (await bringBack(p, inst, run));
    }
    case 'pause':
      await run('pause');
      return () => run('resume');
    case 'restart':
      await run('restart');
      return async () => undefined;
    default:
      throw new AppError('VALIDATION', `${type} needs a faultline supervisor`, {
        issues: [{ path: 'type', message: `${type}: the target's processes are commands (kill, pause, restart only)` }],
      });
  }
}

/**
 * Undo a command fault from its ledger record, in any process (the
 * reconciler, a halt): the target file is read and validated again and only
 * its commands run — pause → `resume`, kill → `start` or `restart` (not
 * when the instance is already back), restart → nothing. A record that does
 * not fit the file is refused, naming the field.
 */
export async function undoCommandFault(u: TCommandUndo): Promise<'resumed' | 'started' | 'none'> {
  const bad = (field: keyof TCommandUndo, message: string) =>
    new AppError('VALIDATION', `fault ledger: undo.commands ${field}: ${message}`, { issues: [{ path: `undo.commands.${field}`, message }] });
  if (typeof u?.targetFile !== 'string' || !path.isAbsolute(u.targetFile) || !/\.ya?ml$/.test(u.targetFile))
    throw bad('targetFile', `must be the absolute path of a target file (.yaml), got ${JSON.stringify(u?.targetFile)}`);
  if (u.fault !== 'kill' && u.fault !== 'pause' && u.fault !== 'restart') throw bad('fault', `must be kill, pause or restart, got ${JSON.stringify(u.fault)}`);
  if (u.fault === 'restart') return 'none';
  const { target } = await loadTarget(u.targetFile);
  if (target.processes?.kind !== 'commands') throw bad('targetFile', `${u.targetFile} has no processes.kind: commands (the file changed since the fault)`);
  const p = target.processes;
  if (typeof u.instance !== 'string' || !p.instances.some((i) => i.id === u.instance))
    throw bad('instance', `${JSON.stringify(u.instance)} is not an instance of ${u.targetFile} (its instances: ${p.instances.map((i) => i.id).join(', ')})`);
  const inst = instanceOf(p, u.instance);
  const run = async (name: keyof TCommandProcesses['commands']) => runToEnd(await fill(need(p, name, u.fault), inst), p.timeout);
  if (u.fault === 'pause') {
    await run('resume');
    return 'resumed';
  }
  return bringBack(p, inst, run);
}
