/** Test fixtures for the fault proxy: scoped servers, free ports, raw TCP peers. */
import net, { type AddressInfo, type Server, type Socket } from 'node:net';
import { startFaultProxy, type TFaultProxy, type TFaultProxyOptions } from '../index.js';

/** A port that was free a moment ago (for APIs that need a fixed port in the request). */
export async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Run `fn` with a fault proxy on a random port, always closed afterwards. */
export async function withFaultProxy<T>(fn: (fp: TFaultProxy) => Promise<T>, opts: TFaultProxyOptions = {}): Promise<T> {
  const fp = await startFaultProxy({ host: '127.0.0.1', port: 0, ...opts });
  try {
    return await fn(fp);
  } finally {
    await fp.close();
  }
}

/** A TCP server on a random port whose connections are handled by `onConn`; closes with all its sockets. */
export async function tcpServer(onConn: (s: Socket) => void): Promise<{ port: number; close(): Promise<void>; sockets: Set<Socket> }> {
  const sockets = new Set<Socket>();
  const server: Server = net.createServer({ allowHalfOpen: true, noDelay: true }, (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    onConn(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as AddressInfo).port,
    sockets,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** An echo server: every byte comes back. */
export function echoServer(): ReturnType<typeof tcpServer> {
  return tcpServer((s) => s.pipe(s));
}

/** Connect to 127.0.0.1:port and resolve once connected. */
export function connect(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port, noDelay: true }, () => {
      s.off('error', reject);
      resolve(s);
    });
    s.once('error', reject);
  });
}

/** Call the API with a JSON (or raw string) body; returns status and parsed body. */
export async function api(url: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any; text: string; headers: Headers }> {
  const res = await fetch(url + path, {
    method,
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* text body */
  }
  return { status: res.status, body: parsed, text, headers: res.headers };
}

/** Create a proxy to `upstreamPort` on a random port; returns its listen port. */
export async function makeProxy(url: string, name: string, upstreamPort: number): Promise<number> {
  const r = await api(url, 'POST', '/proxies', { name, listen: '127.0.0.1:0', upstream: `127.0.0.1:${upstreamPort}` });
  if (r.status !== 201) throw new Error(`create proxy: ${r.status} ${r.text}`);
  return Number(String(r.body.listen).split(':').pop());
}

/** Fail with a clear message if `p` does not settle within `ms`. */
export function timeoutAfter<T>(ms: number, p: Promise<T>, what = 'operation'): Promise<T> {
  let t: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(t)),
    new Promise<T>((_, reject) => {
      t = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
    }),
  ]);
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}
