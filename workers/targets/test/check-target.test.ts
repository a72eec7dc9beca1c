/**
 * `target check` names each broken piece: a proxy name the server does not
 * have, a database that cannot be reached, a metrics URL that answers HTML,
 * an invariant that does not parse against its database.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFaultProxy, type TFaultProxy } from '../../../chaos/index.js';
import { createTestDatabase } from '../../../db/testing.js';
import { parseTarget } from '../../../targets/index.js';
import { checkTarget } from '../index.js';

let proxy: TFaultProxy;
let web: Server;
let webUrl: string;
let database: Awaited<ReturnType<typeof createTestDatabase>>;

beforeAll(async () => {
  proxy = await startFaultProxy({ host: '127.0.0.1', port: 0 });
  const r = await fetch(`${proxy.url}/proxies`, {
    method: 'POST',
    body: JSON.stringify({ name: 'api->postgres', listen: '127.0.0.1:0', upstream: '127.0.0.1:5432' }),
  });
  expect(r.status).toBe(201);
  web = createServer((req, res) => {
    if (req.url === '/metrics') {
      res.setHeader('content-type', 'text/plain; version=0.0.4');
      res.end(
        '# TYPE http_requests_seconds histogram\nhttp_requests_seconds_bucket{le="0.1",route="/x",code="200"} 3\nhttp_requests_seconds_count{route="/x",code="200"} 3\n',
      );
    } else if (req.url === '/dashboard') {
      res.setHeader('content-type', 'text/html');
      res.end('<!doctype html><html><body>Grafana</body></html>');
    } else res.end('ok');
  });
  await new Promise<void>((ok) => web.listen(0, '127.0.0.1', ok));
  webUrl = `http://127.0.0.1:${(web.address() as AddressInfo).port}`;
  database = await createTestDatabase();
  await database.db.execute('CREATE TABLE IF NOT EXISTS accounts (id int primary key, balance int not null)' as never);
});

afterAll(async () => {
  await proxy?.close();
  await new Promise((r) => web?.close(r));
  await database?.drop();
});

function target() {
  return parseTarget(`name: mine
description: checked
entry:
  url: ${webUrl}
edges:
  toxiproxy: ${proxy.url}
  proxies:
    - name: api->postgres
    - name: api->postgress
    - name: api->cache
      kind: redis
      listen: 127.0.0.1:26379
      upstream: 127.0.0.1:6379
metrics:
  scrape: [${webUrl}/metrics, ${webUrl}/dashboard]
  requests: { histogram: http_requests_seconds, route_label: route, status_label: code }
  breakers: { preset: resilience4j }
databases:
  main:
    url_env: FL_CHECK_MAIN_URL
  gone:
    url_env: FL_CHECK_GONE_URL
invariants:
  - name: balance-non-negative
    database: main
    description: no account below zero
    sql: SELECT id FROM accounts WHERE balance < 0
  - name: transfers-balanced
    database: main
    description: every transfer has two legs
    sql: SELECT id FROM transfers WHERE legs <> 2
  - name: nothing-lost
    database: gone
    description: unreachable
    sql: SELECT 1
`);
}

describe('faultline target check', () => {
  it('names the wrong proxy, the unreachable database, the HTML metrics URL and the broken invariant', async () => {
    const lines = await checkTarget(target(), {
      timeoutMs: 5000,
      env: { FL_CHECK_MAIN_URL: database.url, FL_CHECK_GONE_URL: 'postgres://postgres@127.0.0.1:1/nowhere' },
    });
    const by = (piece: string) => lines.find((l) => l.piece === piece);
    expect(by('entry')).toMatchObject({ ok: true });
    expect(by('edges.toxiproxy')).toMatchObject({ ok: true });
    expect(by('edges.proxies.api->postgres')).toMatchObject({ ok: true });
    expect(by('edges.proxies.api->postgress')).toMatchObject({ ok: false });
    expect(by('edges.proxies.api->postgress')!.detail).toMatch(/no proxy "api->postgress".*api->postgres/);
    expect(by('edges.proxies.api->cache')).toMatchObject({ ok: true });
    expect(by('edges.proxies.api->cache')!.detail).toMatch(/created at run start/);
    expect(by('metrics.scrape.0')).toMatchObject({ ok: true, warn: true });
    expect(by('metrics.scrape.0')!.detail).toMatch(/resilience4j_circuitbreaker_state/);
    expect(by('metrics.scrape.1')).toMatchObject({ ok: false });
    expect(by('metrics.scrape.1')!.detail).toMatch(/HTML/);
    expect(by('databases.main')).toMatchObject({ ok: true });
    expect(by('invariants.balance-non-negative')).toMatchObject({ ok: true });
    expect(by('invariants.transfers-balanced')).toMatchObject({ ok: false });
    expect(by('invariants.transfers-balanced')!.detail).toMatch(/transfers/);
    expect(by('databases.gone')).toMatchObject({ ok: false });
    expect(by('databases.gone')!.detail).toMatch(/cannot connect to 127\.0\.0\.1:1/);
    expect(
      lines
        .filter((l) => !l.ok)
        .map((l) => l.piece)
        .sort(),
    ).toEqual(['databases.gone', 'edges.proxies.api->postgress', 'invariants.transfers-balanced', 'metrics.scrape.1']);
  });
});
