/** `faultline proxy` as a process: raw HTTP (what curl sends) against it, populate from --config, clean exit on SIGTERM, bad flags named. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
const children: ChildProcess[] = [];
const dirs: string[] = [];

afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function run(args: string[]): { child: ChildProcess; out: Promise<string>; exit: Promise<number | null>; firstLine: Promise<string> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  let resolveLine: (s: string) => void;
  const firstLine = new Promise<string>((r) => (resolveLine = r));
  child.stdout!.on('data', (b: Buffer) => {
    out += b.toString();
    if (out.includes('\n')) resolveLine(out.split('\n')[0]);
  });
  child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  const exit = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  // a process that dies before printing must fail the test, not hang it
  void exit.then((code) => resolveLine(`exited with ${code}: ${out}`));
  return { child, out: exit.then(() => out), exit, firstLine };
}

/** One raw HTTP/1.1 exchange, exactly what `curl -s -X <m> --data <body> url` puts on the wire. */
function rawHttp(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.end(request));
    const parts: Buffer[] = [];
    s.on('data', (b: Buffer) => parts.push(b));
    s.on('error', reject);
    s.on('close', () => resolve(Buffer.concat(parts).toString()));
  });
}

describe('faultline proxy', () => {
  it('serves the Toxiproxy API to raw curl-style requests, populates from --config and exits cleanly on SIGTERM', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'faultline-proxy-'));
    dirs.push(dir);
    const config = path.join(dir, 'populate.json');
    writeFileSync(config, JSON.stringify([{ name: 'orders->postgres', listen: '127.0.0.1:0', upstream: '127.0.0.1:5432' }]));
    const p = run(['proxy', '--host', '127.0.0.1', '--port', '0', '--config', config]);
    const line = await p.firstLine;
    const port = Number(/:(\d+)$/.exec(line)?.[1]);
    expect(port, line).toBeGreaterThan(0);

    const list = await rawHttp(port, 'GET /proxies HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\nConnection: close\r\n\r\n');
    expect(list).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(list).toMatch(/Content-Type: application\/json\r\n/i);
    expect(list).toMatch(/X-Toxiproxy-Request-Id: [0-9a-v]{20}\r\n/i);
    expect(list).toContain('"orders-\\u003epostgres":{"name":"orders-\\u003epostgres","listen":"127.0.0.1:');

    const body = '{"type":"latency","attributes":{"latency":100}}';
    const add = await rawHttp(
      port,
      `POST /proxies/orders-%3Epostgres/toxics HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: curl/8.5.0\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
    );
    expect(add).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(add.endsWith('{"attributes":{"latency":100,"jitter":0},"name":"latency_downstream","type":"latency","stream":"downstream","toxicity":1}')).toBe(
      true,
    );

    const browser = await rawHttp(port, 'GET /proxies HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: Mozilla/5.0 (X11)\r\nConnection: close\r\n\r\n');
    expect(browser).toMatch(/^HTTP\/1\.1 403 Forbidden\r\n/);
    expect(browser.endsWith('\r\n\r\nUser agent not allowed\n')).toBe(true);

    p.child.kill('SIGTERM');
    expect(await p.exit).toBe(0);
  });

  it('names the bad flag instead of failing with a stack trace', async () => {
    const p = run(['proxy', '--port', 'eighty']);
    expect(await p.exit).toBe(2);
    const out = await p.out;
    expect(out).toContain('invalid --port');
    expect(out).toContain('"eighty" is not an integer from 0 to 65535');
    expect(out).not.toMatch(/\bat .*\.ts:\d+/);
  });

  it('reports a bad --config file with the decoder message', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'faultline-proxy-'));
    dirs.push(dir);
    const config = path.join(dir, 'bad.json');
    writeFileSync(config, '[{"name": "x", "listen": "127.0.0.1:0"}]');
    const p = run(['proxy', '--port', '0', '--config', config]);
    expect(await p.exit).toBe(2);
    expect(await p.out).toContain('missing required field: upstream at proxy 1');
  });
});
