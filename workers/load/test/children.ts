/** Load-only worker processes for the split-load tests (segment-worker-child.ts), started and stopped. */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

export interface TLoadChild {
  proc: ChildProcess;
  workerId: string;
  out: () => string;
}

/** A load-only worker process on the given platform; resolves once it takes jobs. */
export async function spawnLoadWorker(env: Record<string, string>): Promise<TLoadChild> {
  const proc = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'segment-worker-child.ts')], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (d) => (out += String(d)));
  proc.stderr!.on('data', (d) => (out += String(d)));
  const workerId = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`load worker not ready within 90 s:\n${out}`)), 90_000);
    const check = () => {
      const m = /^ready (\S+)$/m.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      } else if (proc.exitCode !== null) {
        clearTimeout(timer);
        reject(new Error(`load worker exited (${proc.exitCode}):\n${out}`));
      } else setTimeout(check, 100);
    };
    check();
  });
  return { proc, workerId, out: () => out };
}

export async function stopChild(c: TLoadChild | undefined): Promise<void> {
  if (!c || c.proc.exitCode !== null || c.proc.signalCode !== null) return;
  const exited = new Promise((r) => c.proc.once('exit', r));
  c.proc.kill('SIGTERM');
  const t = setTimeout(() => c.proc.kill('SIGKILL'), 20_000);
  await exited;
  clearTimeout(t);
}
