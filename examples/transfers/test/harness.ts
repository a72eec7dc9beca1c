/** What the tests that start the transfers example share: admin SQL and waiting for its "listening" line. */
import type { ChildProcess } from 'node:child_process';
import pg from 'pg';

/** One statement on the server's `postgres` database (create / drop the tests' databases). */
export async function admin(sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
  await c.connect();
  await c.query(sql).finally(() => c.end());
}

/** Resolves when the transfers server prints `listening <port>`; rejects with its output if it exits or takes longer than `timeoutMs`. */
export function waitListening(child: ChildProcess, timeoutMs = 120_000): Promise<void> {
  return new Promise((ok, fail) => {
    let out = '';
    const timer = setTimeout(() => fail(new Error(`transfers did not start: ${out}`)), timeoutMs);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (/listening \d+/.test(out)) (clearTimeout(timer), ok());
    });
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => (clearTimeout(timer), fail(new Error(`transfers exited ${code}: ${out}`))));
  });
}
