/**
 * Toxic effects measured on real sockets through the fault proxy, with
 * tolerances: every test asserts bytes delayed, capped, held, cut or reset.
 */
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFaultProxy, type TFaultProxy } from '../index.js';
import { api, connect, echoServer, makeProxy, median, sleep, tcpServer, timeoutAfter } from './helpers.js';

let fp: TFaultProxy;
let echo: Awaited<ReturnType<typeof echoServer>>;
const cleanups: (() => Promise<void> | void)[] = [];

beforeAll(async () => {
  fp = await startFaultProxy({ host: '127.0.0.1', port: 0 });
  echo = await echoServer();
});
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
  await api(fp.url, 'POST', '/reset');
});
afterAll(async () => {
  await fp?.close();
  await echo?.close();
});

let n = 0;
/** A fresh proxy to the echo server; deleted after the test. */
async function proxyToEcho(upstreamPort = echo.port): Promise<{ name: string; port: number; path: string }> {
  const name = `edge-${++n}`;
  const port = await makeProxy(fp.url, name, upstreamPort);
  cleanups.push(async () => void (await api(fp.url, 'DELETE', `/proxies/${name}`)));
  return { name, port, path: `/proxies/${name}` };
}

async function client(port: number): Promise<Socket> {
  const s = await connect(port);
  s.on('error', () => undefined);
  cleanups.push(() => void s.destroy());
  return s;
}

/** Send `msg`, resolve with the ms until the same number of bytes came back. */
function roundTrip(s: Socket, msg: Buffer | string = 'ping'): Promise<number> {
  const want = Buffer.byteLength(msg);
  return new Promise((resolve) => {
    let got = 0;
    const t0 = performance.now();
    const onData = (b: Buffer): void => {
      got += b.length;
      if (got >= want) {
        s.off('data', onData);
        resolve(performance.now() - t0);
      }
    };
    s.on('data', onData);
    s.write(msg);
  });
}

/** Everything the socket receives until it ends or closes, and how it ended. */
function collect(s: Socket): Promise<{ data: Buffer; error?: NodeJS.ErrnoException; chunks: number }> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    let error: NodeJS.ErrnoException | undefined;
    s.on('data', (b: Buffer) => parts.push(b));
    s.on('error', (e) => (error = e));
    s.on('close', () => resolve({ data: Buffer.concat(parts), error, chunks: parts.length }));
  });
}

async function addToxic(path: string, body: Record<string, unknown>): Promise<void> {
  const r = await api(fp.url, 'POST', `${path}/toxics`, body);
  expect(r.status, r.text).toBe(200);
}

describe('fault proxy links', () => {
  it('carries bytes unchanged with no toxic, including a half-close from the client', async () => {
    const server = await tcpServer((s) => {
      const parts: Buffer[] = [];
      s.on('data', (b: Buffer) => parts.push(b));
      // answer only after the client's FIN: the reply must still reach it
      s.on('end', () => s.end(Buffer.concat(parts).reverse()));
    });
    cleanups.push(() => server.close());
    const p = await proxyToEcho(server.port);
    const s = await client(p.port);
    const payload = randomBytes(256 * 1024);
    const done = collect(s);
    s.end(payload);
    const { data } = await timeoutAfter(5000, done, 'reply');
    expect(data.equals(Buffer.from(payload).reverse())).toBe(true);
  });

  it('latency adds the configured delay at p50 (±5 ms)', async () => {
    // paired samples: a clean proxy and a poisoned one, alternated, so load drift on a busy machine cancels out
    const clean = await proxyToEcho();
    const slow = await proxyToEcho();
    await addToxic(slow.path, { type: 'latency', attributes: { latency: 60 } });
    const a = await client(clean.port);
    const b = await client(slow.port);
    await roundTrip(a);
    await roundTrip(b);
    const added: number[] = [];
    for (let i = 0; i < 25; i++) {
      const base = await roundTrip(a);
      added.push((await roundTrip(b)) - base);
    }
    expect(Math.abs(median(added) - 60)).toBeLessThanOrEqual(5);
  });

  it('latency in both directions adds up, and jitter stays within ±jitter', async () => {
    const p = await proxyToEcho();
    await addToxic(p.path, { type: 'latency', stream: 'upstream', attributes: { latency: 30 } });
    await addToxic(p.path, { type: 'latency', attributes: { latency: 40, jitter: 20 } });
    const s = await client(p.port);
    const xs: number[] = [];
    for (let i = 0; i < 20; i++) xs.push(await roundTrip(s));
    // never earlier than the least possible delay (a hard property); the middle near 70 ms;
    // a late outlier is the scheduler of a busy machine, not the proxy, so no hard upper bound on the max
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(30 + 40 - 20 - 2);
    expect(median(xs)).toBeGreaterThanOrEqual(60);
    expect(median(xs)).toBeLessThanOrEqual(85);
    expect(Math.max(...xs) - Math.min(...xs)).toBeGreaterThan(5); // jitter really varies
  });

  it('bandwidth caps throughput (±10 %)', async () => {
    const size = 1_000_000;
    const server = await tcpServer((s) => s.end(randomBytes(size)));
    cleanups.push(() => server.close());
    const p = await proxyToEcho(server.port);
    await addToxic(p.path, { type: 'bandwidth', attributes: { rate: 800 } }); // 800 KB/s = 800 000 B/s
    const t0 = performance.now();
    const s = await client(p.port);
    const { data } = await timeoutAfter(10_000, collect(s), 'download');
    const seconds = (performance.now() - t0) / 1000;
    expect(data.length).toBe(size);
    const rate = size / seconds;
    expect(rate).toBeGreaterThan(800_000 * 0.9);
    expect(rate).toBeLessThan(800_000 * 1.1);
  });

  it('timeout 0 holds data and the connection open; removing it closes the link', async () => {
    const p = await proxyToEcho();
    await addToxic(p.path, { type: 'timeout', attributes: { timeout: 0 } });
    const s = await client(p.port);
    const result = collect(s);
    s.write('anyone there?');
    await sleep(300);
    expect(s.destroyed).toBe(false);
    const r = await api(fp.url, 'DELETE', `${p.path}/toxics/timeout_downstream`);
    expect(r.status).toBe(204);
    const { data } = await timeoutAfter(2000, result, 'close after removing timeout');
    expect(data.length).toBe(0); // held data was dropped, never delivered
  });

  it('timeout > 0 closes the connection after that long without data', async () => {
    const p = await proxyToEcho();
    await addToxic(p.path, { type: 'timeout', attributes: { timeout: 150 } });
    const s = await client(p.port);
    const t0 = performance.now();
    const { data } = await timeoutAfter(3000, collect(s), 'timeout close');
    const waited = performance.now() - t0;
    expect(data.length).toBe(0);
    expect(waited).toBeGreaterThanOrEqual(140);
    expect(waited).toBeLessThan(1000);
  });

  it('reset_peer gives ECONNRESET to the client', async () => {
    const p = await proxyToEcho();
    await addToxic(p.path, { type: 'reset_peer', stream: 'upstream', attributes: { timeout: 50 } });
    const s = await client(p.port);
    const done = collect(s);
    s.write('hello');
    const { error, data } = await timeoutAfter(3000, done, 'reset');
    expect(data.length).toBe(0);
    expect(error?.code).toBe('ECONNRESET');
  });

  it('limit_data closes after exactly N bytes', async () => {
    const server = await tcpServer((s) => {
      s.write(randomBytes(3000));
      setTimeout(() => s.write(randomBytes(3000)), 20);
    });
    cleanups.push(() => server.close());
    const p = await proxyToEcho(server.port);
    await addToxic(p.path, { type: 'limit_data', attributes: { bytes: 4321 } });
    const s = await client(p.port);
    const { data } = await timeoutAfter(3000, collect(s), 'limit close');
    expect(data.length).toBe(4321);
  });

  it('slow_close delays the close but not the data', async () => {
    const server = await tcpServer((s) => s.end('bye'));
    cleanups.push(() => server.close());
    const p = await proxyToEcho(server.port);
    await addToxic(p.path, { type: 'slow_close', attributes: { delay: 200 } });
    const s = await client(p.port);
    const t0 = performance.now();
    let dataAt = 0;
    s.once('data', () => (dataAt = performance.now() - t0));
    const { data } = await timeoutAfter(3000, collect(s), 'slow close');
    const closedAt = performance.now() - t0;
    expect(data.toString()).toBe('bye');
    expect(dataAt).toBeLessThan(100);
    expect(closedAt).toBeGreaterThanOrEqual(190);
  });

  it('slicer cuts data into small pieces without changing it', async () => {
    const payload = randomBytes(4000);
    const server = await tcpServer((s) => s.end(payload));
    cleanups.push(() => server.close());
    const p = await proxyToEcho(server.port);
    await addToxic(p.path, { type: 'slicer', attributes: { average_size: 100, size_variation: 20, delay: 2000 } });
    const s = await client(p.port);
    const { data, chunks } = await timeoutAfter(5000, collect(s), 'sliced download');
    expect(data.equals(payload)).toBe(true);
    expect(chunks).toBeGreaterThanOrEqual(20); // ~4000/120 pieces, 2 ms apart: they arrive as separate reads
  });

  it('disabling a proxy refuses connections and re-enabling restores them on the same port', async () => {
    const p = await proxyToEcho();
    const s = await client(p.port);
    expect(await roundTrip(s)).toBeGreaterThan(0);
    const closed = collect(s);
    const off = await api(fp.url, 'POST', p.path, { enabled: false });
    expect(off.body.enabled).toBe(false);
    await timeoutAfter(2000, closed, 'open connection closed by disable');
    await expect(connect(p.port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    const on = await api(fp.url, 'POST', p.path, { enabled: true });
    expect(on.body.listen).toBe(`127.0.0.1:${p.port}`);
    const s2 = await client(p.port);
    expect(await roundTrip(s2)).toBeGreaterThan(0);
  });

  it('toxicity 0.5 affects about half of 200 connections', async () => {
    const p = await proxyToEcho();
    // a discrete effect (echo cut to 2 bytes) so a busy machine cannot blur which connections were hit
    await addToxic(p.path, { type: 'limit_data', toxicity: 0.5, attributes: { bytes: 2 } });
    const received: number[] = [];
    for (let batch = 0; batch < 4; batch++) {
      const socks = await Promise.all(Array.from({ length: 50 }, () => client(p.port)));
      const results = socks.map((s) => collect(s));
      for (const s of socks) {
        s.write('ping');
        // unaffected connections get all 4 bytes back, then are closed by the client
        s.on('data', () => s.bytesRead >= 4 && s.destroy());
      }
      received.push(...(await timeoutAfter(5000, Promise.all(results), 'batch')).map((r) => r.data.length));
    }
    expect(received.every((n) => n === 2 || n === 4)).toBe(true);
    const affected = received.filter((n) => n === 2).length;
    // Binomial(200, 0.5): mean 100, sd ≈ 7.1; ±4.5 sd
    expect(affected).toBeGreaterThanOrEqual(68);
    expect(affected).toBeLessThanOrEqual(132);
  });

  it('a toxic added while a connection is open delays its later data; removing it restores the fast path', async () => {
    const p = await proxyToEcho();
    const s = await client(p.port);
    expect(await roundTrip(s)).toBeLessThan(30);
    await addToxic(p.path, { type: 'latency', attributes: { latency: 100 } });
    expect(await roundTrip(s)).toBeGreaterThanOrEqual(95);
    await api(fp.url, 'DELETE', `${p.path}/toxics/latency_downstream`);
    expect(await roundTrip(s)).toBeLessThan(30);
    // and bytes are intact across the switches
    const big = randomBytes(200_000);
    const back: Buffer[] = [];
    await new Promise<void>((resolve) => {
      let got = 0;
      s.on('data', (b: Buffer) => {
        back.push(b);
        got += b.length;
        if (got >= big.length) resolve();
      });
      s.write(big);
    });
    expect(Buffer.concat(back).equals(big)).toBe(true);
  });

  it('updating a toxic applies to open connections', async () => {
    const p = await proxyToEcho();
    await addToxic(p.path, { type: 'latency', attributes: { latency: 20 } });
    const s = await client(p.port);
    const before = await roundTrip(s);
    const r = await api(fp.url, 'POST', `${p.path}/toxics/latency_downstream`, { attributes: { latency: 120 } });
    expect(r.body.attributes).toEqual({ latency: 120, jitter: 0 });
    const after = await roundTrip(s);
    expect(before).toBeLessThan(60);
    expect(after).toBeGreaterThanOrEqual(115);
  });

  it('keeps bytes in order through a chain of toxics under load', async () => {
    const p = await proxyToEcho();
    await addToxic(p.path, { type: 'latency', stream: 'upstream', attributes: { latency: 5, jitter: 4 } });
    await addToxic(p.path, { type: 'slicer', attributes: { average_size: 500, size_variation: 100, delay: 0 } });
    await addToxic(p.path, { type: 'bandwidth', attributes: { rate: 20_000 } });
    const s = await client(p.port);
    const big = randomBytes(2_000_000);
    const back: Buffer[] = [];
    await timeoutAfter(
      10_000,
      new Promise<void>((resolve) => {
        let got = 0;
        s.on('data', (b: Buffer) => {
          back.push(b);
          got += b.length;
          if (got >= big.length) resolve();
        });
        s.write(big);
      }),
      'echo through chain',
    );
    expect(Buffer.concat(back).equals(big)).toBe(true);
  });
});
