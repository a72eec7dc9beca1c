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

/**
 * Paired round trips: one on `clean` (a connection through a proxy with no
 * toxic), then one on `s`, alternated, so load drift on a busy machine hits
 * both alike. `added` is the median extra time of `s`, `fastest` the least
 * (a toxic still in force adds its delay to every pair, while a burst of
 * load rarely spares none), `times` its own.
 */
async function pairedRoundTrips(clean: Socket, s: Socket, n: number): Promise<{ added: number; fastest: number; times: number[] }> {
  const added: number[] = [];
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const base = await roundTrip(clean);
    const ms = await roundTrip(s);
    added.push(ms - base);
    times.push(ms);
  }
  return { added: median(added), fastest: Math.min(...added), times };
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

  it('latency adds the configured delay at p50 (−5 ms, +25 %)', async () => {
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
    // A busy machine's timers only ever fire late, and pairing does not cancel that (the clean proxy has
    // no timer), so the upper margin is relative to the delay: 2 cores hogged measured +6 ms here.
    expect(median(added)).toBeGreaterThanOrEqual(60 - 5);
    expect(median(added)).toBeLessThanOrEqual(60 * 1.25);
  });

  it('latency in both directions adds up, and jitter stays within ±jitter', async () => {
    const clean = await proxyToEcho();
    const p = await proxyToEcho();
    await addToxic(p.path, { type: 'latency', stream: 'upstream', attributes: { latency: 30 } });
    await addToxic(p.path, { type: 'latency', attributes: { latency: 40, jitter: 20 } });
    const a = await client(clean.port);
    const s = await client(p.port);
    await roundTrip(a);
    const { added, times: xs } = await pairedRoundTrips(a, s, 20);
    // never (much) earlier than the least possible delay, 50 ms: a timer counts from the event loop's
    // cached clock, a few ms stale on a busy machine, hence 10 %; the middle near 70 ms, measured against
    // a clean proxy alternated with it, with half of it as margin for two late timers (2 cores hogged
    // measured +23 ms); a late outlier is the scheduler, not the proxy, so no hard upper bound on the max
    expect(Math.min(...xs)).toBeGreaterThanOrEqual((30 + 40 - 20) * 0.9);
    expect(median(xs)).toBeGreaterThanOrEqual(60);
    expect(added).toBeLessThanOrEqual(70 * 1.5);
    expect(Math.max(...xs) - Math.min(...xs)).toBeGreaterThan(5); // jitter really varies
  });

  it('bandwidth caps throughput (never over the rate; at most 50 % slower beyond the unthrottled transfer)', async () => {
    const size = 1_000_000;
    const server = await tcpServer((s) => s.end(randomBytes(size)));
    cleanups.push(() => server.close());
    const download = async (port: number): Promise<number> => {
      const t0 = performance.now();
      const s = await client(port);
      const { data } = await timeoutAfter(10_000, collect(s), 'download');
      expect(data.length).toBe(size);
      return performance.now() - t0;
    };
    // what this machine adds to any transfer right now: the same download through a clean proxy
    const baseMs = await download((await proxyToEcho(server.port)).port);
    const p = await proxyToEcho(server.port);
    await addToxic(p.path, { type: 'bandwidth', attributes: { rate: 800 } }); // 800 KB/s = 800 000 B/s
    const ms = await download(p.port);
    const expectedMs = (size / 800_000) * 1000;
    // never faster than the rate (load only slows a transfer, so this holds on any machine)
    expect(size / (ms / 1000)).toBeLessThan(800_000 * 1.1);
    // beyond the unthrottled transfer, the rate's time with half of it as margin: a busy machine (2 cores
    // hogged beside the shared benchmark) measured up to +45 % here; a halved rate would double it
    expect(ms - baseMs).toBeLessThan(expectedMs * 1.5);
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
    // the guard (20x the timeout) is the upper bound: the toxic closed it, not an idle-forever link;
    // a tighter wall-clock bound would measure the machine's load, not the toxic
    const { data } = await timeoutAfter(3000, collect(s), 'timeout close');
    const waited = performance.now() - t0;
    expect(data.length).toBe(0);
    expect(waited).toBeGreaterThanOrEqual(140);
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
    expect(closedAt).toBeGreaterThanOrEqual(190);
    // the data was not held with the close: it came well before it (relative, so load cannot fail it)
    expect(dataAt).toBeGreaterThan(0);
    expect(closedAt - dataAt).toBeGreaterThan(200 / 2);
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
      received.push(...(await timeoutAfter(15_000, Promise.all(results), 'batch')).map((r) => r.data.length));
    }
    expect(received.every((n) => n === 2 || n === 4)).toBe(true);
    const affected = received.filter((n) => n === 2).length;
    // Binomial(200, 0.5): mean 100, sd ≈ 7.1; ±4.5 sd
    expect(affected).toBeGreaterThanOrEqual(68);
    expect(affected).toBeLessThanOrEqual(132);
  });

  it('a toxic added while a connection is open delays its later data; removing it restores the fast path', async () => {
    // fast and slow are judged against a clean proxy's round trips, alternated with these
    const clean = await client((await proxyToEcho()).port);
    const p = await proxyToEcho();
    const s = await client(p.port);
    await roundTrip(clean);
    expect((await pairedRoundTrips(clean, s, 5)).fastest).toBeLessThan(100 / 2);
    await addToxic(p.path, { type: 'latency', attributes: { latency: 100 } });
    // 10 % below the delay: a timer counts from the event loop's cached clock, a few ms stale when busy
    expect(await roundTrip(s)).toBeGreaterThanOrEqual(100 * 0.9);
    await api(fp.url, 'DELETE', `${p.path}/toxics/latency_downstream`);
    expect((await pairedRoundTrips(clean, s, 5)).fastest).toBeLessThan(100 / 2);
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
    const clean = await client((await proxyToEcho()).port);
    const p = await proxyToEcho();
    await addToxic(p.path, { type: 'latency', attributes: { latency: 20 } });
    const s = await client(p.port);
    await roundTrip(clean);
    // 20 ms, not yet 120: against a clean proxy alternated with it, well under the 100 ms the update adds
    const before = await pairedRoundTrips(clean, s, 5);
    const r = await api(fp.url, 'POST', `${p.path}/toxics/latency_downstream`, { attributes: { latency: 120 } });
    expect(r.body.attributes).toEqual({ latency: 120, jitter: 0 });
    const after = await roundTrip(s);
    expect(median(before.times)).toBeGreaterThanOrEqual(20 * 0.9);
    expect(before.fastest).toBeLessThan(20 + 100 / 2);
    // 10 % below the delay: a timer counts from the event loop's cached clock, a few ms stale when busy
    expect(after).toBeGreaterThanOrEqual(120 * 0.9);
  });

  it('keeps bytes in order through a chain of toxics under load', async () => {
    const p = await proxyToEcho();
    await addToxic(p.path, { type: 'latency', stream: 'upstream', attributes: { latency: 5, jitter: 4 } });
    await addToxic(p.path, { type: 'slicer', attributes: { average_size: 500, size_variation: 100, delay: 0 } });
    await addToxic(p.path, { type: 'bandwidth', attributes: { rate: 20_000 } });
    const s = await client(p.port);
    const big = randomBytes(2_000_000);
    const back: Buffer[] = [];
    // a guard against a hang, not a speed bound: 4,000 slices through three toxics crawl on a busy machine
    await timeoutAfter(
      50_000,
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
  }, 60_000);
});
