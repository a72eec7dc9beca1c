/** API semantics beyond the transcript: middleware, update/populate/reset effects on listeners and toxics. */
import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFaultProxy, type TFaultProxy } from '../index.js';
import { api, connect, echoServer, freePort } from './helpers.js';

let fp: TFaultProxy;
let echo: Awaited<ReturnType<typeof echoServer>>;

beforeAll(async () => {
  fp = await startFaultProxy({ host: '127.0.0.1', port: 0 });
  echo = await echoServer();
});
afterEach(async () => {
  const all = await api(fp.url, 'GET', '/proxies');
  for (const name of Object.keys(all.body as object)) await api(fp.url, 'DELETE', `/proxies/${encodeURIComponent(name)}`);
});
afterAll(async () => {
  await fp?.close();
  await echo?.close();
});

const up = (): string => `127.0.0.1:${echo.port}`;

async function refused(port: number): Promise<boolean> {
  return connect(port).then(
    (s) => {
      s.destroy();
      return false;
    },
    (e: NodeJS.ErrnoException) => e.code === 'ECONNREFUSED',
  );
}

describe('fault proxy API semantics', () => {
  it('blocks browsers with 403 and tags matched routes with a request id; 404/405 skip the middleware', async () => {
    const r = await fetch(`${fp.url}/proxies`, { headers: { 'User-Agent': 'Mozilla/5.0 (X11; Linux x86_64)' } });
    expect(r.status).toBe(403);
    expect(r.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(await r.text()).toBe('User agent not allowed\n');
    expect(r.headers.get('x-toxiproxy-request-id')).toMatch(/^[0-9a-v]{20}$/);

    const ok = await fetch(`${fp.url}/version`);
    expect(ok.headers.get('x-toxiproxy-request-id')).toMatch(/^[0-9a-v]{20}$/);

    const notFound = await fetch(`${fp.url}/proxies/a/b/c`, { headers: { 'User-Agent': 'Mozilla/5.0' } });
    expect(notFound.status).toBe(404);
    expect(await notFound.text()).toBe('404 page not found\n');
    expect(notFound.headers.get('x-toxiproxy-request-id')).toBeNull();

    const wrong = await fetch(`${fp.url}/reset`, { method: 'GET' });
    expect(wrong.status).toBe(405);
    expect(await wrong.text()).toBe('');
  });

  it('a proxy created disabled keeps its listen text and does not listen', async () => {
    const port = await freePort();
    const r = await api(fp.url, 'POST', '/proxies', { name: 'off', listen: `localhost:${port}`, upstream: up(), enabled: false });
    expect(r.status).toBe(201);
    expect(r.body.listen).toBe(`localhost:${port}`);
    expect(await refused(port)).toBe(true);
    const on = await api(fp.url, 'PATCH', '/proxies/off', { enabled: true });
    expect(on.body.listen).toBe(`127.0.0.1:${port}`);
    expect(await refused(port)).toBe(false);
  });

  it('a busy port answers 500 with Go’s bind message', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const r = await api(fp.url, 'POST', '/proxies', { name: 'busy', listen: `127.0.0.1:${port}`, upstream: up() });
      expect(r.status).toBe(500);
      expect(r.body).toEqual({ error: `listen tcp 127.0.0.1:${port}: bind: address already in use`, status: 500 });
      expect((await api(fp.url, 'GET', '/proxies/busy')).status).toBe(404);
    } finally {
      await new Promise<void>((r) => blocker.close(() => r()));
    }
  });

  it('changing listen restarts the proxy elsewhere, keeps its toxics, and closes its connections', async () => {
    const a = await api(fp.url, 'POST', '/proxies', { name: 'mover', listen: '127.0.0.1:0', upstream: up() });
    const oldPort = Number(a.body.listen.split(':')[1]);
    await api(fp.url, 'POST', '/proxies/mover/toxics', { type: 'latency', attributes: { latency: 1 } });
    const s = await connect(oldPort);
    const closed = new Promise<void>((r) => s.on('close', () => r()));
    s.on('error', () => undefined);
    const b = await api(fp.url, 'POST', '/proxies/mover', { listen: '127.0.0.1:0' });
    expect(b.status).toBe(200);
    const newPort = Number(b.body.listen.split(':')[1]);
    expect(newPort).not.toBe(oldPort);
    expect(b.body.toxics.map((t: { name: string }) => t.name)).toEqual(['latency_downstream']);
    await closed;
    expect(await refused(oldPort)).toBe(true);
    expect(await refused(newPort)).toBe(false);
  });

  it('populate keeps an identical proxy (with its toxics) and replaces a changed one without toxics', async () => {
    const first = await api(fp.url, 'POST', '/populate', [
      { name: 'same', listen: '127.0.0.1:0', upstream: up() },
      { name: 'changed', listen: '127.0.0.1:0', upstream: up() },
    ]);
    expect(first.status).toBe(201);
    const [same, changed] = first.body.proxies as { listen: string }[];
    await api(fp.url, 'POST', '/proxies/same/toxics', { type: 'timeout', attributes: { timeout: 0 } });
    await api(fp.url, 'POST', '/proxies/changed/toxics', { type: 'timeout', attributes: { timeout: 0 } });
    const second = await api(fp.url, 'POST', '/populate', [
      { name: 'same', listen: same.listen, upstream: up(), enabled: false },
      { name: 'changed', listen: changed.listen, upstream: '127.0.0.1:5432' },
      { name: 'new', listen: '127.0.0.1:0', upstream: up() },
    ]);
    expect(second.status).toBe(201);
    const byName = Object.fromEntries((second.body.proxies as { name: string }[]).map((p) => [p.name, p])) as Record<string, any>;
    expect(byName.same.enabled).toBe(true); // requested enabled:false ignored for an identical proxy
    expect(byName.same.toxics).toHaveLength(1);
    expect(byName.changed.upstream).toBe('127.0.0.1:5432');
    expect(byName.changed.toxics).toEqual([]);
    expect(byName.changed.listen).toBe(changed.listen);
    expect(byName.new.enabled).toBe(true);

    const empty = await api(fp.url, 'POST', '/populate', []);
    expect(empty.status).toBe(201);
    expect(empty.text).toBe('{"proxies":null}');
  });

  it('reset re-enables every proxy and removes every toxic, keeping the proxies', async () => {
    await api(fp.url, 'POST', '/proxies', { name: 'r1', listen: '127.0.0.1:0', upstream: up() });
    await api(fp.url, 'POST', '/proxies/r1/toxics', { type: 'bandwidth', stream: 'UpStream', attributes: { rate: 1 } });
    const off = await api(fp.url, 'POST', '/proxies/r1', { enabled: false });
    expect(off.body.enabled).toBe(false);
    const toxics = await api(fp.url, 'GET', '/proxies/r1/toxics');
    expect(toxics.body[0]).toMatchObject({ name: 'bandwidth_UpStream', stream: 'UpStream' }); // stream kept as sent
    expect((await api(fp.url, 'POST', '/reset')).status).toBe(204);
    const r1 = await api(fp.url, 'GET', '/proxies/r1');
    expect(r1.body.enabled).toBe(true);
    expect(r1.body.toxics).toEqual([]);
    expect(await refused(Number(r1.body.listen.split(':')[1]))).toBe(false);
  });

  it('rejects bad toxic bodies with Toxiproxy’s messages and changes nothing', async () => {
    await api(fp.url, 'POST', '/proxies', { name: 't', listen: '127.0.0.1:0', upstream: up() });
    const cases: [unknown, number, string][] = [
      [{ type: 'down' }, 400, 'invalid toxic type'],
      [
        { type: 'latency', toxicity: 'high' },
        400,
        'bad request body: json: cannot unmarshal string into Go struct field ToxicWrapper.toxicity of type float32',
      ],
      [
        { type: 'latency', attributes: { latency: 1.5 } },
        400,
        'bad request body: json: cannot unmarshal number 1.5 into Go struct field LatencyToxic.attributes.latency of type int64',
      ],
      [[], 400, 'bad request body: json: cannot unmarshal array into Go value of type toxics.ToxicWrapper'],
      ['', 400, 'bad request body: EOF'],
    ];
    for (const [body, status, error] of cases) {
      const r = await api(fp.url, 'POST', '/proxies/t/toxics', body);
      expect(r.status).toBe(status);
      expect(r.body).toEqual({ error, status });
    }
    expect((await api(fp.url, 'GET', '/proxies/t/toxics')).body).toEqual([]);
    const upd = await api(fp.url, 'PATCH', '/proxies/t', { enabled: 'yes' });
    expect(upd.body.error).toBe('bad request body: json: cannot unmarshal string into Go struct field Proxy.enabled of type bool');
  });
});

describe('fault proxy /metrics', () => {
  it('counts bytes per proxy and direction when proxy metrics are on', async () => {
    const mp = await startFaultProxy({ host: '127.0.0.1', port: 0, proxyMetrics: true });
    try {
      const r = await api(mp.url, 'POST', '/proxies', { name: 'a->b', listen: '127.0.0.1:0', upstream: up() });
      const port = Number(r.body.listen.split(':')[1]);
      const s = await connect(port);
      await new Promise<void>((resolve) => {
        let got = 0;
        s.on('data', (b: Buffer) => {
          got += b.length;
          if (got >= 1000) resolve();
        });
        s.write(Buffer.alloc(1000));
      });
      s.destroy();
      const res = await fetch(`${mp.url}/metrics`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('text/plain');
      const text = await res.text();
      const labels = `listener="${r.body.listen}",proxy="a->b",upstream="${up()}"`;
      expect(text).toContain(`toxiproxy_proxy_received_bytes_total{direction="upstream",${labels}} 1000`);
      expect(text).toContain(`toxiproxy_proxy_sent_bytes_total{direction="downstream",${labels}} 1000`);
    } finally {
      await mp.close();
    }
  });
});
