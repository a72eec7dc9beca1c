/**
 * Network and dependency faults through the real fault proxy
 * (startFaultProxy, driven through toxiproxy-node-client): every fault's
 * effect is measured on real sockets, and is gone after remove.
 *
 * No supervisor runs here, so edges come from the proxy list: the proxies
 * `orders->payments` and `orders->payments#1` form one edge.
 */
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { Toxiproxy } from 'toxiproxy-node-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../core/errors.js';
import { createTestDatabase } from '../../db/testing.js';
import { faults as faultsTable } from '../../db/schema/faults.js';
import { startFaultProxy, type TFaultProxy } from '../proxy/index.js';
import { applyFault, haltAll, reconcileFaults, removeFault } from '../index.js';
import { getFault } from '../safety/ledger.js';
import type { TFaultContext } from '../faults/types.js';
import { ToxiproxyApi } from '../faults/toxiproxy-api.js';
import { median } from './helpers.js';

let fp: TFaultProxy;
let ledger: Awaited<ReturnType<typeof createTestDatabase>>;
let ctx: TFaultContext;
let upstream: http.Server;
let rawUpstream: net.Server;
const listen: Record<string, string> = {};
const BIG = Buffer.alloc(300_000, 'x');

function listenOn(server: net.Server | http.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

/** One GET on a fresh connection: status, wall time, bytes read, or the socket error. */
function get(addr: string, path = '/', timeoutMs = 3000): Promise<{ status: number; ms: number; bytes: number; error?: string }> {
  const [host, port] = addr.split(':');
  const t0 = performance.now();
  return new Promise((resolve) => {
    let done = false;
    const finish = (r: { status: number; bytes: number; error?: string }) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req.destroy();
      resolve({ ...r, ms: performance.now() - t0 });
    };
    const req = http.get({ host, port: Number(port), path, agent: false }, (res) => {
      let bytes = 0;
      res.on('data', (c: Buffer) => (bytes += c.length));
      res.on('end', () => finish({ status: res.statusCode ?? 0, bytes }));
      res.on('error', (e) => finish({ status: 0, bytes, error: (e as NodeJS.ErrnoException).code ?? e.message }));
    });
    req.on('error', (e) => finish({ status: 0, bytes: 0, error: (e as NodeJS.ErrnoException).code ?? e.message }));
    const timer = setTimeout(() => finish({ status: 0, bytes: 0, error: 'TIMEOUT' }), timeoutMs);
  });
}

/** Raw TCP: connect, optionally write, collect until close; reports bytes, error code and time to close. */
function rawExchange(addr: string, write?: string, timeoutMs = 3000): Promise<{ bytes: number; error?: string; closedMs: number }> {
  const [host, port] = addr.split(':');
  const t0 = performance.now();
  return new Promise((resolve) => {
    let bytes = 0;
    let error: string | undefined;
    const s = net.connect({ host, port: Number(port) }, () => {
      if (write) s.write(write);
    });
    const timer = setTimeout(() => {
      error = 'TIMEOUT';
      s.destroy();
    }, timeoutMs);
    s.on('data', (c) => (bytes += c.length));
    s.on('error', (e: NodeJS.ErrnoException) => (error ??= e.code ?? e.message));
    s.on('close', () => {
      clearTimeout(timer);
      resolve({ bytes, error, closedMs: performance.now() - t0 });
    });
  });
}

async function medianGet(addr: string, n = 7, path = '/'): Promise<number> {
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const r = await get(addr, path);
    expect(r.status, r.error).toBe(200);
    ms.push(r.ms);
  }
  return median(ms);
}

async function pgQueryMs(addr: string, n = 5): Promise<number> {
  const [host, port] = addr.split(':');
  const c = new pg.Client({ host, port: Number(port), user: 'postgres', database: 'postgres', connectionTimeoutMillis: 5000 });
  await c.connect();
  try {
    await c.query('select 1');
    const ms: number[] = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      await c.query('select 1');
      ms.push(performance.now() - t0);
    }
    return median(ms);
  } finally {
    await c.end();
  }
}

async function allToxics(): Promise<string[]> {
  const list = await new ToxiproxyApi(fp.url).list();
  return [...list.values()].flatMap((p) => p.toxics.map((t) => `${p.name}/${t.name}`));
}

async function expectRejected(p: Promise<unknown>, code: string, path: string): Promise<AppError> {
  const e = await p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(AppError);
  expect((e as AppError).code).toBe(code);
  expect((e as AppError).issues.map((i) => i.path)).toContain(path);
  return e as AppError;
}

beforeAll(async () => {
  upstream = http.createServer((req, res) => {
    if (req.url === '/big') {
      res.writeHead(200, { 'content-length': BIG.length });
      res.end(BIG);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('ok');
  });
  // A raw TCP service that sends 10 000 bytes and closes: for close-timing and byte-limit faults.
  rawUpstream = net.createServer((s) => {
    s.on('error', () => undefined);
    s.end(Buffer.alloc(10_000, 'y'));
  });
  const [httpPort, rawPort] = await Promise.all([listenOn(upstream), listenOn(rawUpstream)]);
  fp = await startFaultProxy({ host: '127.0.0.1', port: 0 });
  ledger = await createTestDatabase();
  const tp = new Toxiproxy(fp.url);
  const made = await tp.populate([
    { name: 'orders->payments', listen: '127.0.0.1:0', upstream: `127.0.0.1:${httpPort}` },
    { name: 'orders->payments#1', listen: '127.0.0.1:0', upstream: `127.0.0.1:${httpPort}` },
    { name: 'orders->postgres', listen: '127.0.0.1:0', upstream: '127.0.0.1:5432' },
    { name: 'catalog->files', listen: '127.0.0.1:0', upstream: `127.0.0.1:${rawPort}` },
    // Points outside the allowlist: must never get a fault.
    { name: 'orders->evil', listen: '127.0.0.1:0', upstream: 'example.com:80' },
  ]);
  for (const [name, p] of Object.entries(made)) listen[name] = p.listen;
  ctx = {
    toxiproxyUrl: fp.url,
    // Nothing listens on port 9: edges come from the proxy list.
    supervisorUrl: 'http://127.0.0.1:9',
    db: ledger.db,
    allowedHosts: ['127.0.0.1', 'localhost'],
  };
});

afterEach(async () => {
  // A failed test must not leave a fault for the next one.
  await new ToxiproxyApi(fp.url).reset();
});

afterAll(async () => {
  await fp?.close();
  await ledger?.drop();
  await new Promise((r) => upstream?.close(r));
  await new Promise((r) => rawUpstream?.close(r));
});

describe('network faults', () => {
  it('latency delays every proxy of the edge by the configured time; remove restores it', async () => {
    const base0 = await medianGet(listen['orders->payments']);
    const f = await applyFault({ type: 'latency', target: 'orders->payments', params: { latencyMs: 100 } }, ctx);
    expect((await allToxics()).sort()).toEqual([`orders->payments#1/${f.id}_downstream`, `orders->payments/${f.id}_downstream`].sort());
    try {
      const slow0 = await medianGet(listen['orders->payments']);
      const slow1 = await medianGet(listen['orders->payments#1']);
      // The toxic holds every response at least 100 ms after it arrives, so the
      // absolute floor is exact; the upper bound is relative to the baseline,
      // which a busy machine inflates for both measurements alike.
      expect(slow0).toBeGreaterThanOrEqual(98);
      expect(slow1).toBeGreaterThanOrEqual(98);
      expect(slow0 - base0).toBeLessThan(160);
      // Other edges are untouched.
      expect(await pgQueryMs(listen['orders->postgres'])).toBeLessThan(50);
    } finally {
      await f.remove();
    }
    expect(await allToxics()).toEqual([]);
    expect(await medianGet(listen['orders->payments'])).toBeLessThan(base0 + 30);
    expect((await getFault(ledger.db, f.id))?.status).toBe('removed');
  });

  it('latency on one instance proxy (#1) leaves instance 0 alone', async () => {
    const f = await applyFault({ type: 'latency', target: 'orders->payments#1', params: { latencyMs: 100 } }, ctx);
    expect(await allToxics()).toEqual([`orders->payments#1/${f.id}_downstream`]);
    expect(await medianGet(listen['orders->payments'], 3)).toBeLessThan(60);
    expect(await medianGet(listen['orders->payments#1'], 3)).toBeGreaterThan(90);
    await f.remove();
  });

  it('jitter spreads the delay around its base', async () => {
    const f = await applyFault({ type: 'jitter', target: 'orders->payments', params: { jitterMs: 60 } }, ctx);
    const ms: number[] = [];
    for (let i = 0; i < 24; i++) ms.push((await get(listen['orders->payments'])).ms);
    await f.remove();
    // Delay per chunk is 60 ± 60 ms: a spread, centred near 60.
    expect(Math.max(...ms) - Math.min(...ms)).toBeGreaterThan(40);
    expect(median(ms)).toBeGreaterThan(25);
    expect(median(ms)).toBeLessThan(110);
  });

  it('bandwidth caps throughput at the configured rate', async () => {
    const f = await applyFault({ type: 'bandwidth', target: 'orders->payments', params: { rateKBps: 600 } }, ctx);
    const r = await get(listen['orders->payments'], '/big', 10_000);
    await f.remove();
    expect(r.bytes).toBe(BIG.length);
    const kbps = r.bytes / 1000 / (r.ms / 1000);
    expect(kbps).toBeGreaterThan(600 * 0.8);
    expect(kbps).toBeLessThan(600 * 1.15);
    const fast = await get(listen['orders->payments'], '/big');
    expect(fast.bytes / 1000 / (fast.ms / 1000)).toBeGreaterThan(2000);
  });

  it('blackhole holds requests without an answer; remove lets them through', async () => {
    const f = await applyFault({ type: 'blackhole', target: 'orders->payments' }, ctx);
    const r = await get(listen['orders->payments'], '/', 700);
    expect(r.error).toBe('TIMEOUT');
    await f.remove();
    expect((await get(listen['orders->payments'])).status).toBe(200);
  });

  it('timeout drops the answer and closes the connection after the configured quiet time', async () => {
    // HTTP/1.1 keep-alive: the upstream answers and keeps the connection open,
    // so only the toxic's timer can close it (an upstream EOF would close it at once).
    const request = 'GET / HTTP/1.1\r\nHost: x\r\n\r\n';
    const f = await applyFault({ type: 'timeout', target: 'orders->payments', params: { timeoutMs: 300 } }, ctx);
    const r = await rawExchange(listen['orders->payments'], request, 3000);
    await f.remove();
    expect(r.bytes).toBe(0);
    expect(r.error).not.toBe('TIMEOUT');
    expect(r.closedMs).toBeGreaterThan(250);
    expect(r.closedMs).toBeLessThan(1500);
    expect((await get(listen['orders->payments'])).status).toBe(200);
  });

  it('reset_peer gives the client ECONNRESET', async () => {
    const f = await applyFault({ type: 'reset_peer', target: 'orders->payments', params: { stream: 'upstream' } }, ctx);
    const r = await rawExchange(listen['orders->payments'], 'GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await f.remove();
    expect(r.error).toBe('ECONNRESET');
    expect((await get(listen['orders->payments'])).status).toBe(200);
  });

  it('slow_close delays the close of a connection', async () => {
    const before = await rawExchange(listen['catalog->files']);
    const f = await applyFault({ type: 'slow_close', target: 'catalog->files', params: { delayMs: 400 } }, ctx);
    const r = await rawExchange(listen['catalog->files']);
    await f.remove();
    expect(before.closedMs).toBeLessThan(200);
    expect(r.bytes).toBe(10_000);
    expect(r.closedMs).toBeGreaterThan(380);
    expect(r.closedMs).toBeLessThan(1200);
  });

  it('limit_data closes the connection after exactly N bytes', async () => {
    const f = await applyFault({ type: 'limit_data', target: 'catalog->files', params: { bytes: 1234 } }, ctx);
    const r = await rawExchange(listen['catalog->files']);
    await f.remove();
    expect(r.bytes).toBe(1234);
    expect((await rawExchange(listen['catalog->files'])).bytes).toBe(10_000);
  });

  it('edge_down refuses connections on every proxy of the edge; remove restores them', async () => {
    const f = await applyFault({ type: 'edge_down', target: 'orders->payments' }, ctx);
    expect((await get(listen['orders->payments'])).error).toBe('ECONNREFUSED');
    expect((await get(listen['orders->payments#1'])).error).toBe('ECONNREFUSED');
    await f.remove();
    expect((await get(listen['orders->payments'])).status).toBe(200);
    expect((await get(listen['orders->payments#1'])).status).toBe(200);
  });

  it('an edge disabled by two faults stays down until both are removed', async () => {
    const a = await applyFault({ type: 'edge_down', target: 'orders->payments' }, ctx);
    const b = await applyFault({ type: 'partition', target: ['orders->payments'], params: { mode: 'down' } }, ctx);
    await a.remove();
    expect((await get(listen['orders->payments'])).error).toBe('ECONNREFUSED');
    await b.remove();
    expect((await get(listen['orders->payments'])).status).toBe(200);
  });

  it('partition (blackhole) cuts several edges in both directions at once', async () => {
    const f = await applyFault({ type: 'partition', target: ['orders->*'], params: {} }, { ...ctx, allowedHosts: ['127.0.0.1', 'localhost', 'example.com'] });
    const names = await allToxics();
    // Both directions on every proxy of every matching edge (incl. orders->evil, allowed for this test).
    expect(names).toHaveLength(4 * 2);
    expect(names).toContain(`orders->postgres/${f.id}_upstream`);
    expect((await get(listen['orders->payments'], '/', 600)).error).toBe('TIMEOUT');
    expect((await get(listen['orders->payments#1'], '/', 600)).error).toBe('TIMEOUT');
    await f.remove();
    expect(await allToxics()).toEqual([]);
    expect((await get(listen['orders->payments'])).status).toBe(200);
  });
});

describe('dependency faults', () => {
  it('latency on orders->postgres slows every query by the configured time', async () => {
    const base = await pgQueryMs(listen['orders->postgres']);
    const f = await applyFault({ type: 'latency', target: 'orders->postgres', params: { latencyMs: 80 } }, ctx);
    const slow = await pgQueryMs(listen['orders->postgres']);
    await f.remove();
    expect(slow - base).toBeGreaterThan(70);
    expect(slow - base).toBeLessThan(140);
    expect(await pgQueryMs(listen['orders->postgres'])).toBeLessThan(base + 20);
  });
});

describe('validation before anything is applied', () => {
  const nothingApplied = async (rowsBefore: number) => {
    expect(await allToxics()).toEqual([]);
    const proxies = await new ToxiproxyApi(fp.url).list();
    expect([...proxies.values()].every((p) => p.enabled)).toBe(true);
    expect((await ledger.db.select().from(faultsTable)).length).toBe(rowsBefore);
  };

  it('refuses an unknown edge, naming target and the known edges', async () => {
    const rows = (await ledger.db.select().from(faultsTable)).length;
    const e = await expectRejected(applyFault({ type: 'latency', target: 'orders->billing', params: { latencyMs: 10 } }, ctx), 'VALIDATION', 'target');
    expect(e.issues[0].message).toContain('orders->payments');
    await expectRejected(applyFault({ type: 'edge_down', target: 'orders->payments#5' }, ctx), 'VALIDATION', 'target');
    await expectRejected(applyFault({ type: 'partition', target: ['orders->payments', 'billing->*'] }, ctx), 'VALIDATION', 'target.1');
    await nothingApplied(rows);
  });

  it('refuses bad params naming the field', async () => {
    const rows = (await ledger.db.select().from(faultsTable)).length;
    await expectRejected(applyFault({ type: 'latency', target: 'orders->payments', params: { latencyMs: -1 } }, ctx), 'VALIDATION', 'params.latencyMs');
    await expectRejected(
      applyFault({ type: 'latency', target: 'orders->payments', params: { latencyMs: 1, toxicity: 2 } }, ctx),
      'VALIDATION',
      'params.toxicity',
    );
    await expectRejected(applyFault({ type: 'bandwidth', target: 'orders->payments', params: { rateKBps: 0 } }, ctx), 'VALIDATION', 'params.rateKBps');
    await nothingApplied(rows);
  });

  it('refuses a proxy whose upstream is outside the allowlist', async () => {
    const rows = (await ledger.db.select().from(faultsTable)).length;
    const e = await expectRejected(applyFault({ type: 'latency', target: 'orders->evil', params: { latencyMs: 10 } }, ctx), 'TARGET_NOT_ALLOWED', 'target');
    expect(e.issues[0].message).toContain('example.com');
    // A partition that would include it is refused as a whole.
    await expectRejected(applyFault({ type: 'partition', target: ['orders->*'] }, ctx), 'TARGET_NOT_ALLOWED', 'target.0');
    await nothingApplied(rows);
  });

  it('refuses a fault proxy API outside the allowlist', async () => {
    await expectRejected(
      applyFault({ type: 'latency', target: 'orders->payments', params: { latencyMs: 10 } }, { ...ctx, toxiproxyUrl: 'http://10.20.30.40:8474' }),
      'TARGET_NOT_ALLOWED',
      'toxiproxyUrl',
    );
  });
});

describe('failed removal', () => {
  it('keeps the row open with the error, and the reconciler finishes the job', async () => {
    const f = await applyFault({ type: 'latency', target: 'orders->payments', params: { latencyMs: 300 } }, { ...ctx, runId: 'run-x' });
    // The proxy API is unreachable at removal time (wrong address here).
    await expect(removeFault(f.id, { ...ctx, toxiproxyUrl: 'http://127.0.0.1:9' })).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    const row = await getFault(ledger.db, f.id);
    expect(row?.status).toBe('failed');
    expect(row?.removedAt).toBeNull();
    expect(row?.error).toContain('unreachable');
    expect((await allToxics()).length).toBe(2);
    // Run still active, holder (this process) alive: only the failed removal is retried.
    const r = await reconcileFaults(ctx, { isRunActive: () => true });
    expect(r.removed.map((x) => [x.id, x.reason])).toEqual([[f.id, 'removal-failed']]);
    expect(await allToxics()).toEqual([]);
  });
});

describe('halt', () => {
  it('removes recorded and unrecorded toxics and re-enables proxies, and reports them', async () => {
    const a = await applyFault({ type: 'latency', target: 'orders->payments', params: { latencyMs: 500 } }, { ...ctx, runId: 'run-a' });
    const b = await applyFault({ type: 'edge_down', target: 'catalog->files' }, { ...ctx, runId: 'run-a' });
    // Added behind the catalog's back (someone with curl): halt removes it too.
    await (
      await new Toxiproxy(fp.url).get(encodeURIComponent('orders->postgres'))
    ).addToxic({
      name: 'manual',
      type: 'latency',
      stream: 'downstream',
      toxicity: 1,
      attributes: { latency: 300, jitter: 0 },
    });
    const r = await haltAll(ctx);
    console.log(`halt (3 toxics + 1 disabled proxy, supervisor unreachable): ${r.durationMs} ms`);
    expect(r.removed.map((x) => x.id).sort()).toEqual([a.id, b.id].sort());
    expect(r.toxics.map((t) => `${t.proxy}/${t.toxic}`).sort()).toEqual(
      [`orders->payments/${a.id}_downstream`, `orders->payments#1/${a.id}_downstream`, 'orders->postgres/manual'].sort(),
    );
    expect(r.proxiesEnabled).toEqual(['catalog->files']);
    expect(r.errors.map((e) => e.component)).toEqual(['supervisor']);
    expect(await allToxics()).toEqual([]);
    expect(await medianGet(listen['orders->payments'], 3)).toBeLessThan(100);
    expect((await rawExchange(listen['catalog->files'])).bytes).toBe(10_000);
    expect((await getFault(ledger.db, a.id))?.status).toBe('removed');
    // Removing after a halt is harmless.
    await a.remove();
    await b.remove();
  });
});
