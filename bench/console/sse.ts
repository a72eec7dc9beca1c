/**
 * How fast the run page's live feed is: N browsers follow one run over the
 * console's SSE stream (`runEventStream`, real Postgres + Redis) while the
 * runner emits `load.second`-sized events; prints delivery latency from
 * `appendRunEvent` returning to each client receiving the frame (all
 * clients share the console process's one Redis subscriber).
 *
 *   npx tsx bench/console/sse.ts [clients=50] [events=200] [intervalMs=20]
 */
import { randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { createTestDatabase } from '../../db/testing.js';
import { runs } from '../../db/schema/index.js';

const clients = Number(process.argv[2] ?? 50);
const events = Number(process.argv[3] ?? 200);
const intervalMs = Number(process.argv[4] ?? 20);

const t = await createTestDatabase();
process.env.DATABASE_URL = t.url;
process.env.FAULTLINE_PREFIX = `flbench${randomBytes(4).toString('hex')}`;
const { runEventStream, platform, closeRunHub } = await import('../../app/_lib/runs.js');
const { appendRunEvent } = await import('../../workers/runner/event-sink.js');
const p = platform();
const runId = `bench${randomBytes(4).toString('hex')}`;
await t.db.insert(runs).values({ id: runId, experimentName: 'bench', target: 'shop', state: 'running', definition: {} });

const sentAt = new Map<number, number>();
const latencies: number[] = [];
const dec = new TextDecoder();
const ac = new AbortController();
// one abort listener per client stream, on purpose
setMaxListeners(0, ac.signal);
const readers = Array.from({ length: clients }, () =>
  (async () => {
    const reader = runEventStream(runId, 0, ac.signal).getReader();
    let buf = '';
    for (;;) {
      const r = await reader.read();
      if (r.done) return;
      buf += dec.decode(r.value);
      let i;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const frame = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const id = /^id: (\d+)/m.exec(frame);
        if (id) {
          const at = sentAt.get(Number(id[1]));
          if (at !== undefined) latencies.push(performance.now() - at);
        }
      }
    }
  })(),
);
// Let every client subscribe before the first event.
await new Promise((r) => setTimeout(r, 500));
const second = { t: Date.now(), rps: 20, target: 20, errors: 0, errorsByKind: { http_503: 1 }, p50: 5, p95: 30, p99: 60, cp99: 61, activeVus: 3, dropped: 0 };
const started = performance.now();
for (let i = 0; i < events; i++) {
  const ev = i === events - 1 ? ({ type: 'verdict', verdict: 'passed' } as const) : ({ type: 'load.second', second } as const);
  const s = await appendRunEvent(t.db, p.redis, p.prefix, runId, ev);
  sentAt.set(s.seq, performance.now());
  if (intervalMs) await new Promise((r) => setTimeout(r, intervalMs));
}
await Promise.race([Promise.all(readers), new Promise((r) => setTimeout(r, 10_000))]);
ac.abort();
const elapsed = performance.now() - started;
latencies.sort((a, b) => a - b);
const q = (x: number) => latencies[Math.min(latencies.length - 1, Math.floor(x * latencies.length))]?.toFixed(2);
console.log(
  `SSE fan-out: ${clients} clients × ${events} events (one every ${intervalMs} ms), ${latencies.length}/${clients * events} frames delivered in ${(elapsed / 1000).toFixed(1)} s`,
);
console.log(`delivery latency after the event is stored+published (ms): p50 ${q(0.5)}  p95 ${q(0.95)}  p99 ${q(0.99)}  max ${latencies.at(-1)?.toFixed(2)}`);
closeRunHub();
await p.close();
await t.drop();
