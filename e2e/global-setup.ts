/**
 * Build the console, start the stack (e2e/stack.ts in a child process) and
 * hand its URLs to the specs through the environment. The returned function
 * is the teardown: SIGTERM, the stack removes every fault and drops its
 * databases and Redis keys.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export default async function globalSetup(): Promise<() => Promise<void>> {
  mkdirSync(path.join(root, '.faultline/screenshots'), { recursive: true });
  if (process.env.E2E_SKIP_BUILD !== '1') {
    process.stderr.write('[e2e] next build --webpack\n');
    execFileSync(process.execPath, [path.join(root, 'node_modules/next/dist/bin/next'), 'build', '--webpack'], {
      cwd: root,
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1' },
    });
  }
  process.stderr.write('[e2e] starting the stack\n');
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'e2e/stack.ts'), '--bugs', 'double-charge'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1' },
  });
  const logs: string[] = [];
  child.stderr!.on('data', (d: Buffer) => {
    logs.push(d.toString());
    if (process.env.E2E_VERBOSE) process.stderr.write(d);
  });
  const ready = await new Promise<Record<string, string>>((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`stack not ready within 150 s:\n${logs.join('').slice(-4000)}`)), 150_000);
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const line = buf.split('\n').find((l) => l.startsWith('{"ready"'));
      if (line) {
        clearTimeout(timer);
        resolve(JSON.parse(line));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`stack exited with ${code}:\n${logs.join('').slice(-4000)}`));
    });
  });
  process.env.E2E_BASE_URL = ready.consoleUrl;
  process.env.E2E_PROXY_URL = ready.proxyUrl;
  process.env.E2E_SUPERVISOR_URL = ready.supervisorUrl;
  process.env.E2E_DATABASE_URL = ready.databaseUrl;
  return async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 30_000))]);
    if (child.exitCode === null) child.kill('SIGKILL');
  };
}
