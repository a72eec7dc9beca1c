/**
 * Plain-HTTP scenarios (`requests`): generated values, the weighted pick, and
 * a real run of the built-in engine against a small server, whose history
 * holds the id of every acknowledged write.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseScenario, runEngine } from '../index.js';
import { atJsonPath, fillBody, fillTemplate, pickRequest, writeKey } from '../engine/requests.js';

let server: Server | undefined;
afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

describe('plain-HTTP scenario', () => {
  it('fills generated values: numbers stay numbers, padding, uuid, pick', () => {
    for (let i = 0; i < 50; i++) {
      const n = fillTemplate('${randInt 1 5}', 1);
      expect(typeof n).toBe('number');
      expect(n).toBeGreaterThanOrEqual(1);
      expect(n).toBeLessThanOrEqual(5);
      expect(fillTemplate('acct-${randInt 1 9 2}', 1)).toMatch(/^acct-0[1-9]$/);
    }
    expect(fillTemplate('${uuid}', 1)).toMatch(/^[0-9a-f-]{36}$/);
    expect(['a', 'b']).toContain(fillTemplate('${pick a b}', 1));
    expect(fillBody({ a: ['${vu}'], b: 3 }, 7)).toEqual({ a: ['7'], b: 3 });
    expect(atJsonPath({ data: { items: [{ id: 'x' }] } }, '$.data.items[0].id')).toBe('x');
  });

  it("reads a write's own key from a header (any case) or its body, and refuses a key spelled otherwise, naming the field", () => {
    expect(writeKey('header Idempotency-Key', { 'idempotency-key': 'k1' }, undefined)).toBe('k1');
    expect(writeKey('$.transfer.ref', {}, { transfer: { ref: 42 } })).toBe('42');
    expect(writeKey('$.missing', {}, { a: 1 })).toBeUndefined();
    expect(writeKey(undefined, { 'idempotency-key': 'k1' }, undefined)).toBeUndefined();
    let issues: { path: string; message: string }[] = [];
    try {
      parseScenario(
        `name: t\nrequests:\n  - {name: a, method: POST, path: /a}\nacknowledged:\n  - {route: POST /a, status: [201], id: $.id, key: Idempotency-Key}\nload: {executor: constant-vus, vus: 1, duration: 1s}\n`,
      );
    } catch (e) {
      issues = (e as { issues: { path: string; message: string }[] }).issues;
    }
    expect(issues.map((i) => i.path)).toEqual(['acknowledged.0.key']);
    expect(issues[0]!.message).toContain('header <name>');
  });

  it('picks requests by weight', () => {
    const s = parseScenario(
      `name: t\nrequests:\n  - {name: a, method: GET, path: /a, weight: 3}\n  - {name: b, method: GET, path: /b, weight: 1}\nload: {executor: constant-vus, vus: 1, duration: 1s}\n`,
    );
    expect(pickRequest(s.requests!, 0.74).name).toBe('a');
    expect(pickRequest(s.requests!, 0.76).name).toBe('b');
  });

  it('refuses a scenario with both the shop mix and requests, naming the field', () => {
    let issues: { path: string }[] = [];
    try {
      parseScenario(`name: t\nmix: {browse: 1}\nrequests:\n  - {name: a, method: GET, path: /a}\nload: {executor: constant-vus, vus: 1, duration: 1s}\n`);
    } catch (e) {
      issues = (e as { issues: { path: string }[] }).issues;
    }
    expect(issues.map((i) => i.path)).toEqual(['requests']);
  });

  it('runs on the built-in engine and records the ids of acknowledged writes', async () => {
    const bodies: unknown[] = [];
    let next = 0;
    server = createServer((req, res) => {
      let text = '';
      req.on('data', (d: Buffer) => (text += d.toString()));
      req.on('end', () => {
        if (req.method === 'POST' && req.url === '/transfers') {
          bodies.push(JSON.parse(text));
          res.writeHead(202, { 'content-type': 'application/json' }).end(JSON.stringify({ transferId: `t${++next}` }));
        } else res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const yaml = await readFile(path.join(import.meta.dirname, '../../examples/transfers/load.yaml'), 'utf8');
    // the target file's key (the scenario's own acknowledged names none): every attempt carries its Idempotency-Key
    const s = parseScenario(
      yaml
        .replace('duration: 30s', 'duration: 2s')
        .replace('id: $.transferId', 'id: $.transferId\n    key: header Idempotency-Key\n    record: [$.transferId]'),
    );
    const r = await runEngine(s, { baseUrl: url });
    const acked = r.history.filter((e) => e.type === 'ok' && e.route === 'POST /transfers');
    expect(acked.length).toBeGreaterThan(10);
    expect(acked.every((e) => /^t\d+$/.test(e.value.id ?? ''))).toBe(true);
    expect(new Set(acked.map((e) => e.value.id)).size).toBe(acked.length);
    // the recorded response values (a target's `agree` compares them with the row)
    expect(acked.every((e) => e.value.fields?.['$.transferId'] === e.value.id)).toBe(true);
    // each attempt's invoke and completion carry the key it sent, one fresh key per transfer
    const invokes = r.history.filter((e) => e.type === 'invoke' && e.route === 'POST /transfers');
    expect(invokes.every((e) => /^[0-9a-f-]{36}$/.test(e.value.key ?? ''))).toBe(true);
    expect(new Set(invokes.map((e) => e.value.key)).size).toBe(invokes.length);
    expect(acked.every((e) => invokes.some((i) => i.value.key === e.value.key && i.process === e.process))).toBe(true);
    expect(r.history.filter((e) => e.route === 'GET /accounts/:id').every((e) => e.value.key === undefined)).toBe(true);
    const b = bodies[0] as { from: string; to: string; amountCents: number };
    expect(b.from).toMatch(/^acct-(0[1-9]|10)$/);
    expect(b.to).toMatch(/^acct-(1[1-9]|20)$/);
    expect(typeof b.amountCents).toBe('number');
    expect(r.history.some((e) => e.route === 'GET /accounts/:id')).toBe(true);
  }, 30_000);
});
