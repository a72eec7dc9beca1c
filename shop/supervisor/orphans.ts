/**
 * Leftovers of a supervisor that died without cleaning up (SIGKILL, OOM):
 * its instances keep running and keep their ports, and a new supervisor
 * would poll *their* /health and believe its own children healthy. So each
 * supervisor records its children's pids in a state file per port block;
 * the next one on that block kills recorded orphans, and refuses to start
 * while any port of the block is still taken.
 *
 * It only ever kills a process it can prove the dead supervisor started: the
 * recorded pid with the recorded start time (/proc/<pid>/stat), or, for a
 * state file without start times, the pid of a shop service entry of this
 * very checkout (its absolute path in the command line). A recycled pid, or
 * another checkout's shop on a shared machine, is never hit.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SupervisorError } from './errors.js';

/** Root of this checkout (shop/supervisor/ is two levels down). */
const CHECKOUT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface TStateFile {
  supervisorPid: number;
  /** Start time of the supervisor process (Linux clock ticks since boot), to tell a recycled pid apart. */
  supervisorStart?: number | null;
  portBase: number;
  /** `start`: the child's start time (as supervisorStart) when it was recorded. */
  children: { id: string; pid: number; start?: number | null }[];
}

export function stateFilePath(dir: string, portBase: number): string {
  return path.join(dir, `supervisor-${portBase}.json`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: exists but not ours to signal
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Command line of a process (Linux /proc); null when unknown. */
function cmdline(pid: number): string | null {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return null;
  }
}

/** Start time of a process (field 22 of /proc/<pid>/stat); null when unknown. */
export function processStart(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name (field 2) may hold spaces: count fields after its closing parenthesis
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const v = Number(fields[19]);
    return Number.isFinite(v) ? v : null;
  } catch {
    return null;
  }
}

export function readState(file: string): TStateFile | null {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as TStateFile;
  } catch {
    return null;
  }
}

export function writeState(file: string, state: TStateFile): void {
  mkdirSync(path.dirname(file), { recursive: true });
  // write-then-rename: a reader never sees half a file
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(state));
  renameSync(tmp, file);
}

/** A supervisor that stopped cleanly leaves no file (so a recycled pid can never look like a live supervisor). */
export function removeState(file: string): void {
  rmSync(file, { force: true });
}

/**
 * Is `child` (a live pid) provably the process the dead supervisor started?
 * With a recorded start time it must match; without one (older state files)
 * the command line must run a shop service entry of `checkoutRoot`.
 */
export function provablyOurs(child: { pid: number; start?: number | null }, checkoutRoot: string = CHECKOUT_ROOT): boolean {
  if (child.start != null) return processStart(child.pid) === child.start;
  const cmd = cmdline(child.pid);
  return cmd !== null && cmd.includes(`${path.join(path.resolve(checkoutRoot), 'shop', 'services')}${path.sep}`);
}

/**
 * Kill the instances a dead supervisor left on this port block. Throws when
 * the recorded supervisor is still alive (two supervisors on one block).
 * Only processes it can prove were that supervisor's children are killed
 * (`provablyOurs`).
 */
export async function reapOrphans(file: string, opts: { checkoutRoot?: string } = {}): Promise<{ killed: { id: string; pid: number }[] }> {
  const state = readState(file);
  if (!state) return { killed: [] };
  // Alive and the same process (not a recycled pid), still holding instances: a live supervisor.
  const sameProcess =
    alive(state.supervisorPid) &&
    (state.supervisorStart == null || processStart(state.supervisorPid) === null || processStart(state.supervisorPid) === state.supervisorStart);
  if (state.supervisorPid !== process.pid && sameProcess && state.children.length > 0) {
    throw new SupervisorError(
      'CONFLICT',
      `another supervisor (pid ${state.supervisorPid}) runs the shop on port base ${state.portBase}; stop it first or pick another --port-base`,
    );
  }
  const killed: { id: string; pid: number }[] = [];
  for (const c of state.children) {
    if (!alive(c.pid) || !provablyOurs(c, opts.checkoutRoot)) continue;
    process.kill(c.pid, 'SIGKILL');
    killed.push({ id: c.id, pid: c.pid });
  }
  // give the kernel a moment to release their ports
  for (let i = 0; i < 40 && killed.some((c) => alive(c.pid)); i++) await new Promise((r) => setTimeout(r, 50));
  return { killed };
}

function portTaken(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'EADDRINUSE' || e.code === 'EACCES'));
    s.listen(port, host, () => s.close(() => resolve(false)));
  });
}

/** Refuse to start while a planned instance port is in use, naming each one. */
export async function assertPortsFree(host: string, planned: { id: string; port: number }[]): Promise<void> {
  const taken = [];
  for (const p of planned) if (await portTaken(host, p.port)) taken.push(p);
  if (taken.length) {
    throw new SupervisorError(
      'CONFLICT',
      `ports in use: ${taken.map((t) => `${t.port} (${t.id})`).join(', ')}; is another shop running? pick another --port-base`,
      taken.map((t) => ({ path: `instances.${t.id}`, message: `port ${t.port} is in use` })),
    );
  }
}
