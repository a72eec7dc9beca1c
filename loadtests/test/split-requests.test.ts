/**
 * A plain-HTTP `requests` scenario split into execution segments: the same
 * scenario run unsplit, then in 2 and 3 segments (built-in engine, one worker
 * thread each, merged by mergeLoadResults) against a small loopback server
 * that records every request. The split runs must add up to the unsplit one
 * (k6 striping), keep every acknowledged write once in the merged history, and
 * keep per-iteration values (`${uuid}`) and VU numbers (`${vu}`, the history's
 * processes) distinct across segments.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseScenario, runLoad, type TLoadResult } from '../index.js';

interface TSeen {
  method: string;
  url: string;
  key: string;
  vu: string;
  body: { from?: string; amountCents?: number; client?: string; pick?: string } | undefined;
}

let server: Server;
let url = '';
let seen: TSeen[] = [];
let nextId = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    let text = '';
    req.on('data', (d: Buffer) => (text += d.toString()));
    req.on('end', () => {
      const s: TSeen = {
        method: req.method ?? '',
        url: req.url ?? '',
        key: String(req.headers['idempotency-key'] ?? ''),
        vu: String(req.headers['x-vu'] ?? ''),
        body: text ? (JSON.parse(text) as TSeen['body']) : undefined,
      };
      // the engine's warm-up (GET /health on each pre-allocated connection) is not an iteration
      if (s.url !== '/health') seen.push(s);
      if (s.method === 'POST' && s.url === '/transfers')
        res.writeHead(202, { 'content-type': 'application/json' }).end(JSON.stringify({ transferId: `t${++nextId}` }));
      else res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

// 15 iterations a second for 2 s: 30 scheduled iterations, striped over the segments
const SCENARIO = `
name: split-transfers
requests:
  - name: transfer
    method: POST
    path: /transfers
    headers:
      idempotency-key: \${uuid}
      x-vu: \${vu}
    body:
      from: acct-\${randInt 1 10 2}
      amountCents: \${randInt 1 500}
      client: vu-\${vu}
      pick: \${pick red green blue}
    weight: 4
    expect: [202]
  - name: balance
    method: GET
    path: /accounts/acct-\${randInt 1 20 2}
    route: GET /accounts/:id
    headers:
      x-vu: \${vu}
    weight: 1
    expect: [200]
acknowledged:
  - route: POST /transfers
    status: [202]
    id: $.transferId
load:
  executor: constant-arrival-rate
  rate: 15
  timeUnit: 1s
  duration: 2s
  preAllocatedVUs: 6
  maxVUs: 30
`;

const count = (r: TLoadResult, metric: string) => r.metrics[metric]?.values.count ?? 0;

/** One run of the scenario (unsplit or in `segments`), with what the server saw during it. */
async function run(segments: number): Promise<{ r: TLoadResult; seen: TSeen[] }> {
  seen = [];
  const r = await runLoad(parseScenario(SCENARIO), { baseUrl: url, engine: 'builtin', segments });
  return { r, seen };
}

describe('a requests scenario split into segments', () => {
  it('adds up to the unsplit run, keeps each acknowledged write once and every generated value apart', async () => {
    const unsplit = await run(1);
    // what was scheduled, run or dropped: the schedule, independent of how busy the machine is
    const scheduled = count(unsplit.r, 'iterations') + count(unsplit.r, 'dropped_iterations');
    expect(scheduled).toBe(30);
    for (const n of [2, 3]) {
      const { r, seen: got } = await run(n);
      // k6 striping: every scheduled iteration belongs to exactly one segment
      expect(count(r, 'iterations') + count(r, 'dropped_iterations'), `${n} segments`).toBe(scheduled);
      // one request per iteration, and the server saw each (nothing lost or doubled by the split)
      expect(got.length, `${n} segments: requests seen`).toBe(count(r, 'iterations'));
      expect(count(r, 'http_reqs'), `${n} segments: http_reqs`).toBe(got.length);

      // every acknowledged write appears once in the merged history, with the id the server gave
      const transfers = got.filter((s) => s.method === 'POST');
      const acked = r.history.filter((e) => e.type === 'ok' && e.route === 'POST /transfers');
      expect(acked.length, `${n} segments: acknowledged`).toBe(transfers.length);
      const ids = acked.map((e) => e.value.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids.every((id) => /^t\d+$/.test(String(id)))).toBe(true);

      // ${uuid} is fresh per iteration across every segment
      const keys = transfers.map((s) => s.key);
      expect(keys.every((k) => /^[0-9a-f-]{36}$/.test(k))).toBe(true);
      expect(new Set(keys).size, `${n} segments: distinct idempotency keys`).toBe(keys.length);

      // ${vu} is the VU across the whole test: no two segments send the same number
      // (k6's exec.vu.idInTest), and it is the history's process of the request
      const vusByReq = got.map((s) => Number(s.vu));
      expect(vusByReq.every((v) => Number.isInteger(v) && v >= 1)).toBe(true);
      expect(transfers.every((s) => s.body?.client === `vu-${s.vu}`)).toBe(true);
      const processes = new Set(r.history.filter((e) => e.type === 'invoke').map((e) => e.process));
      expect([...new Set(vusByReq)].sort((a, b) => a - b)).toEqual([...processes].sort((a, b) => a - b));

      // the history pairs: per process, invoke and completion alternate, each completion of the invoked request
      const byProcess = new Map<number, typeof r.history>();
      for (const e of r.history) byProcess.set(e.process, [...(byProcess.get(e.process) ?? []), e]);
      for (const [p, evs] of byProcess) {
        for (let i = 0; i < evs.length; i += 2) {
          expect(evs[i].type, `process ${p} event ${i}`).toBe('invoke');
          expect(evs[i + 1]?.type, `process ${p} event ${i + 1}`).not.toBe('invoke');
          expect((evs[i + 1]?.value as { name?: string }).name).toBe((evs[i].value as { name?: string }).name);
        }
      }
      // generated values stay in their ranges in every segment
      for (const s of transfers) {
        expect(s.body?.from).toMatch(/^acct-(0[1-9]|10)$/);
        expect(typeof s.body?.amountCents).toBe('number');
        expect(['red', 'green', 'blue']).toContain(s.body?.pick);
      }
    }
  }, 120_000);
});
