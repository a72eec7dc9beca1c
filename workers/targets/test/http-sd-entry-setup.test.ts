/**
 * `target check` of a `metrics.http_sd` URL (the JSON shape, then every listed
 * target's /metrics, an HTML answer named as such, `__metrics_path__` followed),
 * and the target file's validation of `entry.setup` captures, each problem at its field and line.
 */
import http from 'node:http';
import type net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { parseTarget } from '../../../targets/index.js';
import { checkTarget } from '../index.js';

const servers: http.Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

async function serve(handler: http.RequestListener): Promise<string> {
  const server: net.Server = http.createServer(handler);
  for (let port = 19560 + Math.floor(Math.random() * 30); port < 19600; port++) {
    const ok = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (ok) {
      servers.push(server as http.Server);
      return `127.0.0.1:${port}`;
    }
  }
  throw new Error('no free port in 19560–19599');
}

const target = (entry: string, sd: string) =>
  parseTarget(`name: sd
description: metrics from http_sd
entry: { url: "http://${entry}", health: /health }
metrics: { http_sd: "${sd}" }
`);

describe('target check: metrics.http_sd', () => {
  it('checks every listed target: Prometheus text ok, an HTML answer named, __metrics_path__ followed', async () => {
    const prom = await serve((req, res) => {
      if (req.url === '/actuator/prometheus') return res.writeHead(200, { 'content-type': 'text/plain' }).end('# TYPE up gauge\nup 1\n');
      res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><html>dashboard</html>');
    });
    const html = await serve((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><html>login</html>'));
    const sd = await serve((_req, res) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify([
          { targets: [prom], labels: { job: 'api', __metrics_path__: '/actuator/prometheus' } },
          { targets: [html], labels: { job: 'web' } },
        ]),
      ),
    );
    const lines = await checkTarget(target(prom, `http://${sd}/sd`));
    const by = (piece: string) => lines.find((l) => l.piece === piece);
    expect(by('metrics.http_sd')).toMatchObject({ ok: true, detail: `2 targets: ${prom}, ${html}` });
    expect(by(`metrics.http_sd[${prom}]`)).toMatchObject({ ok: true, detail: '1 samples' });
    expect(by(`metrics.http_sd[${html}]`)?.ok).toBe(false);
    expect(by(`metrics.http_sd[${html}]`)?.detail).toMatch(/answers HTML \(text\/html\), not the Prometheus text format/);
  });

  it('an answer not in the http_sd shape fails, naming what is wrong', async () => {
    const sd = await serve((req, res) => {
      if (req.url === '/html') return res.writeHead(200, { 'content-type': 'text/html' }).end('<html></html>');
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify([{ targets: ['http://x:1/metrics'] }]));
    });
    const wrong = (await checkTarget(target(sd, `http://${sd}/sd`))).find((l) => l.piece === 'metrics.http_sd');
    expect(wrong).toMatchObject({ ok: false });
    expect(wrong?.detail).toMatch(/not the http_sd format .*0\.targets\.0: expected "host:port"/);
    const html = (await checkTarget(target(sd, `http://${sd}/html`))).find((l) => l.piece === 'metrics.http_sd');
    expect(html?.detail).toMatch(/answers no JSON \(text\/html\)/);
  });
});

describe('target file: entry.setup', () => {
  const file = (setup: string, headers = "{ authorization: 'Bearer ${token}' }") => `name: authed
description: a login before the load
entry:
  url: http://127.0.0.1:1
  headers: ${headers}
  setup:
${setup}
`;

  it('accepts a capture used by the headers and a later step', () => {
    const t = parseTarget(
      file(`    - { name: login, method: POST, path: /login, body: { user: u }, capture: { token: $.token } }
    - { name: me, method: GET, path: /me, headers: { authorization: 'Bearer \${token}' }, capture: { userId: $.user.id } }`),
    );
    expect(t.entry.setup.map((s) => Object.keys(s.capture))).toEqual([['token'], ['userId']]);
  });

  it('names the field and line of a header using a value no step captures, and of a reserved capture name', () => {
    let err: { issues?: { path: string; line?: number; message: string }[] } = {};
    try {
      parseTarget(file(`    - { name: login, method: POST, path: /login, capture: { uuid: $.token } }`), 'authed.yaml');
    } catch (e) {
      err = e as typeof err;
    }
    expect(err.issues).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          path: 'entry.headers.authorization',
          line: 5,
          message: expect.stringMatching(/\$\{token\} is not captured by entry\.setup/),
        }),
        expect.objectContaining({ path: 'entry.setup.0.capture.uuid', line: 7, message: expect.stringMatching(/"uuid" is a generated value/) }),
      ]),
    );
  });
});
