/**
 * Load-engine bench (prints figures; never asserts timing in tests).
 *
 * (a) the highest constant arrival rate the built-in engine holds against a
 *     trivial loopback server (< 1 % of the scheduled iterations dropped and
 *     p99 of iteration_start_lag ≤ 10 ms, over a whole 4 s run) with 1, 2 and
 *     4 segments (worker threads, one merged result), and its saturation
 *     throughput next to autocannon's closed-loop maximum;
 * (b) coordinated omission: a server stalling 1 s every 5 s at a fixed
 *     200 rps — the true p99 (from the schedule and the stall windows), the
 *     engine's corrected p99, its k6-style p99, autocannon's p99.
 *
 *   npm run bench:load            (≈ 3–6 min on a busy machine, every run bounded)
 *
 * Figures move a lot with the machine's load (the server, the engine and
 * everybody else share the cores): read them next to the load average printed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { parseScenario, runLoad, type TLoadResult } from '../../loadtests/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));

async function startServer(args: string[]): Promise<{ url: string; start: number; proc: ChildProcess }> {
  const proc = spawn(process.execPath, [path.join(here, 'server.mjs'), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line: string = await new Promise((resolve, reject) => {
    let buf = '';
    proc.stdout!.on('data', (c) => {
      buf += c;
      if (buf.includes('\n')) resolve(buf.split('\n')[0]);
    });
    proc.on('exit', (c) => reject(new Error(`server exited ${c}`)));
  });
  const { port, start } = JSON.parse(line) as { port: number; start: number };
  return { url: `http://127.0.0.1:${port}`, start, proc };
}

function scenario(rate: number, duration: string, pre: number, max: number) {
  return parseScenario(`name: bench
setup: { users: 0, products: 0 }
mix: { browse: 1 }
load: { executor: constant-arrival-rate, rate: ${rate}, duration: ${duration}, preAllocatedVUs: ${pre}, maxVUs: ${max} }
http: { timeout: 10s }
`);
}

function scheduleError(r: TLoadResult, scheduled: number) {
  const dropped = r.metrics.dropped_iterations?.values.count ?? 0;
  const lagP99 = r.metrics.iteration_start_lag?.values['p(99)'] ?? 0;
  const iterations = r.metrics.iterations?.values.count ?? 0;
  return { dropped, lagP99, iterations, ok: dropped / scheduled < 0.01 && lagP99 <= 10 && iterations >= 0.99 * scheduled };
}

const f1 = (x: number) => x.toFixed(1);

/**
 * Highest constant arrival rate held by `segments` segments (worker threads,
 * one merged result): a fixed ladder of bounded runs, stopping at the first
 * rate not held, then one step between the last held and the first not.
 */
async function maxRate(url: string, segments: number) {
  const secs = 4;
  const tried: string[] = [];
  let best = 0;
  const attempt = async (rate: number) => {
    const r = await runLoad(scenario(rate, `${secs}s`, Math.max(50, rate / 50), Math.max(100, rate / 5)), {
      engine: 'builtin',
      baseUrl: url,
      history: false,
      segments,
    });
    const e = scheduleError(r, rate * secs);
    const dropPct = (e.dropped / (rate * secs)) * 100;
    tried.push(
      `    ${String(rate).padStart(6)}/s: ${e.ok ? 'held' : 'NOT '} iterations ${e.iterations}/${rate * secs}, dropped ${e.dropped} (${dropPct.toFixed(2)} %), p99 start lag ${f1(e.lagP99)} ms`,
    );
    if (e.ok) best = Math.max(best, rate);
    return e.ok;
  };
  let failedAt = 0;
  for (const rate of [250, 500, 1000, 2000, 4000, 6000, 8000, 12_000]) {
    if (!(await attempt(rate))) {
      failedAt = rate;
      break;
    }
  }
  if (failedAt && best) await attempt(Math.round((best + failedAt) / 2));
  return { best, tried };
}

/** Iterations per second actually run when asked for far more than the engine can do (open model, VUs to spare). */
async function saturation(url: string, segments: number): Promise<number> {
  const secs = 4;
  const r = await runLoad(scenario(50_000, `${secs}s`, 400, 400), { engine: 'builtin', baseUrl: url, history: false, segments });
  return Math.round((r.metrics.iterations?.values.count ?? 0) / secs);
}

function p99Exact(values: number[]): number {
  const v = [...values].sort((a, b) => a - b);
  const i = 0.99 * (v.length - 1); // k6's interpolation
  const lo = Math.floor(i);
  return v[lo] + (v[Math.min(lo + 1, v.length - 1)] - v[lo]) * (i - lo);
}

async function main() {
  const load = os
    .loadavg()
    .map((x) => x.toFixed(1))
    .join(' ');
  console.log(`faultline load bench — loopback, Node ${process.version}, ${os.cpus().length} CPUs, load average ${load}`);
  if (os.loadavg()[0] > os.cpus().length) console.log('  WARNING: the machine is busy (load average above the CPU count): figures below are pessimistic');

  // ── (a) highest rate held by 1, 2 and 4 segments; saturation next to autocannon ──
  const trivial = await startServer(['trivial']);
  try {
    console.log('\n(a) trivial loopback server; held = < 1 % dropped and p99 start lag <= 10 ms, 4 s runs (segments are worker threads, one merged result)');
    const rows: string[] = [];
    for (const segments of [1, 2, 4]) {
      const { best, tried } = await maxRate(trivial.url, segments);
      console.log(`  ${segments} segment(s):\n${tried.join('\n')}`);
      const sat = await saturation(trivial.url, segments);
      rows.push(
        `  ${String(segments).padStart(2)} segment(s): highest rate held ${String(best).padStart(6)} /s   saturation ${String(sat).padStart(6)} iterations/s`,
      );
    }
    const ac = await autocannon({ url: `${trivial.url}/products`, connections: 100, duration: 4 });
    console.log(
      `\n  summary (load average now ${os
        .loadavg()
        .map((x) => x.toFixed(1))
        .join(' ')}):`,
    );
    console.log(rows.join('\n'));
    console.log(
      `  autocannon (100 connections, closed loop, 4 s): ${Math.round(ac.requests.average)} req/s (p99 ${ac.latency.p99} ms, ${ac.errors} errors, ${ac.non2xx} non-2xx)`,
    );
  } finally {
    trivial.proc.kill('SIGTERM');
  }

  // `--no-co`: only (a)
  if (process.argv.includes('--no-co')) return;

  // ── (b) coordinated omission ──
  const cycle = 5000;
  const stall = 1000;
  const offset = 2000;
  const rate = 200;
  const secs = 15;
  const stallSrv = await startServer(['stall', String(cycle), String(stall), String(offset)]);
  try {
    const truthFor = (r: TLoadResult) => {
      const start = r.seconds[0].t;
      const base = r.metrics.http_req_duration.values.med;
      const lat: number[] = [];
      for (let i = 0; i < rate * secs; i++) {
        const e = start + (i * 1000) / rate;
        const t = e - stallSrv.start - offset;
        const inCycle = ((t % cycle) + cycle) % cycle;
        lat.push((t >= 0 && inCycle < stall ? stall - inCycle : 0) + base);
      }
      return p99Exact(lat);
    };
    console.log(`\n(b) coordinated omission: server stalls ${stall} ms every ${cycle} ms, ${rate} req/s for ${secs} s`);
    for (const [label, pre, max] of [
      ['VUs sized like the k6 docs (median_iter_dur × rate + margin = 5)', 5, 5],
      ['VUs to spare (preAllocatedVUs 400)', 400, 400],
    ] as const) {
      const r = await runLoad(scenario(rate, `${secs}s`, pre, max), { engine: 'builtin', baseUrl: stallSrv.url, history: false });
      const truth = truthFor(r);
      const corrected = r.metrics.http_req_corrected_duration.values['p(99)'];
      const k6 = r.metrics.http_req_duration.values['p(99)'];
      const err = ((corrected - truth) / truth) * 100;
      console.log(`  ${label}:`);
      console.log(
        `    true p99 ${f1(truth)} ms | engine corrected p99 ${f1(corrected)} ms (${err >= 0 ? '+' : ''}${f1(err)} %, ${Math.abs(err) <= 10 ? 'within' : 'OUTSIDE'} 10 %) | k6-style p99 ${f1(k6)} ms | dropped ${r.metrics.dropped_iterations?.values.count ?? 0}`,
      );
    }
    // autocannon at the same fixed rate: closed loop per connection, its own CO correction on (rate set)
    const ac = await autocannon({ url: `${stallSrv.url}/products`, connections: 10, overallRate: rate, duration: secs });
    console.log(`  autocannon -c 10 -R ${rate}: p99 ${ac.latency.p99} ms (${Math.round(ac.requests.average)} req/s achieved)`);
  } finally {
    stallSrv.proc.kill('SIGTERM');
  }
}

await main();
