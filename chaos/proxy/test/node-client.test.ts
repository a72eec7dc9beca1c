/** toxiproxy-node-client (the client every chaos code path uses) against the fault proxy, end to end. */
import { Toxiproxy } from 'toxiproxy-node-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TFaultProxy } from '../index.js';
import { startFaultProxy } from '../index.js';
import { connect, echoServer } from './helpers.js';

let fp: TFaultProxy;
let echo: Awaited<ReturnType<typeof echoServer>>;

beforeAll(async () => {
  fp = await startFaultProxy({ host: '127.0.0.1', port: 0 });
  echo = await echoServer();
});
afterAll(async () => {
  await fp?.close();
  await echo?.close();
});

describe('toxiproxy-node-client against the fault proxy', () => {
  it('creates, reads, updates, adds/updates/removes toxics, populates, resets, reports its version', async () => {
    const tp = new Toxiproxy(fp.url);
    expect(await tp.getVersion()).toBe('{"version": "2.12.0"}\n');

    const proxy = await tp.createProxy({ name: 'orders->payments', listen: '127.0.0.1:0', upstream: `127.0.0.1:${echo.port}` });
    expect(proxy.name).toBe('orders->payments');
    expect(proxy.listen).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(proxy.enabled).toBe(true);
    await expect(tp.createProxy({ name: 'orders->payments', listen: '127.0.0.1:0', upstream: '127.0.0.1:1' })).rejects.toThrow(
      'Request failed with status code 409',
    );

    const got = await tp.get('orders->payments');
    expect(got.listen).toBe(proxy.listen);
    await expect(tp.get('missing')).rejects.toThrow('Request failed with status code 404');

    const toxic = await proxy.addToxic<{ latency: number; jitter: number }>({
      name: 'slow',
      type: 'latency',
      stream: 'downstream',
      toxicity: 1,
      attributes: { latency: 40, jitter: 0 },
    });
    expect(toxic.name).toBe('slow');
    expect(toxic.attributes).toEqual({ latency: 40, jitter: 0 });
    const updated = await toxic.update({ ...toxic.toJson(), attributes: { latency: 80, jitter: 5 }, toxicity: 0.5 });
    expect(updated.attributes).toEqual({ latency: 80, jitter: 5 });
    expect(updated.toxicity).toBe(0.5);
    const fetched = await proxy.getToxic<{ latency: number }>('slow');
    expect(fetched.attributes.latency).toBe(80);
    await toxic.remove();
    await expect(proxy.getToxic('slow')).rejects.toThrow('Request failed with status code 404');

    // the proxy really carries bytes
    const port = Number(proxy.listen.split(':')[1]);
    const s = await connect(port);
    const echoed = new Promise<string>((r) => s.once('data', (b) => r(b.toString())));
    s.write('ping');
    expect(await echoed).toBe('ping');
    s.destroy();

    const disabled = await proxy.update({ enabled: false, listen: proxy.listen, upstream: proxy.upstream });
    expect(disabled.enabled).toBe(false);

    const populated = await tp.populate([
      { name: 'orders->payments', listen: proxy.listen, upstream: proxy.upstream },
      { name: 'orders->postgres', listen: '127.0.0.1:0', upstream: '127.0.0.1:5432' },
    ]);
    expect(Object.keys(populated).sort()).toEqual(['orders->payments', 'orders->postgres']);
    // same name, listen and upstream: kept as it is (still disabled)
    expect(populated['orders->payments'].enabled).toBe(false);

    await proxy.addToxic({ name: 'cut', type: 'timeout', stream: 'upstream', toxicity: 1, attributes: { timeout: 0 } });
    await tp.reset();
    const all = await tp.getAll();
    expect(Object.keys(all).sort()).toEqual(['orders->payments', 'orders->postgres']);
    expect(all['orders->payments'].enabled).toBe(true);
    const toxics = (await (await fetch(`${fp.url}/proxies/orders-%3Epayments/toxics`)).json()) as unknown[];
    expect(toxics).toEqual([]);

    await all['orders->postgres'].remove();
    expect(Object.keys(await tp.getAll())).toEqual(['orders->payments']);
  });
});
