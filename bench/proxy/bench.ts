/**
 * Fault proxy overhead: a proxy with no toxic vs a direct connection,
 * measured side by side in one run (rounds alternate, medians reported).
 *
 *   npm run bench:proxy [-- --rounds 5 --pings 5000 --mb 256]
 *
 * - added latency: sequential 64-byte request/response round trips on one
 *   connection (p50 / p99 per request);
 * - throughput: one large download (MB/s).
 *
 * Upstream servers and the fault proxy (bench/proxy/serve.ts) run in their own
 * processes; this process is only the client.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import net, { type Socket } from 'node:net';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    pings: { type: 'string', default: '5000' },
    mb: { type: 'string', default: '256' },
  },
});
const ROUNDS = Number(values.rounds);
const PINGS = Number(values.pings);
const BYTES = Number(values.mb) * 1_000_000;
for (const [k, v] of Object.entries({ rounds: ROUNDS, pings: PINGS, mb: BYTES })) {
  if (!Number.isInteger(v) || v <= 0) {
    process.stderr.write(`bench:proxy: --${k} must be a positive integer\n`);
    process.exit(2);
  }
}

const children: ChildProcess[] = [];

/** CPU seconds (user + system) a child has used so far, from /proc (Linux; 0 elsewhere). */
function cpuSeconds(pid: number | undefined): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in USER_HZ (100/s)
  } catch {
    return 0;
  }
}
function start(args: string[]): Promise<string> {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve(out.slice(0, nl));
    });
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}`)));
  });
}

function connect(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port, noDelay: true }, () => resolve(s));
    s.once('error', reject);
  });
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** p50/p99 in µs of `PINGS` sequential 64-byte round trips (after a warm-up). */
async function pingPong(port: number): Promise<{ p50: number; p99: number }> {
  const s = await connect(port);
  const msg = Buffer.alloc(64, 0x62);
  const rtts: number[] = [];
  await new Promise<void>((resolve) => {
    let got = 0;
    let t0 = 0;
    let i = 0;
    const warm = 500;
    s.on('data', (b: Buffer) => {
      got += b.length;
      if (got < msg.length) return;
      got -= msg.length;
      if (i >= warm) rtts.push((performance.now() - t0) * 1000);
      if (++i >= warm + PINGS) return resolve();
      t0 = performance.now();
      s.write(msg);
    });
    t0 = performance.now();
    s.write(msg);
  });
  s.destroy();
  rtts.sort((a, b) => a - b);
  return { p50: quantile(rtts, 0.5), p99: quantile(rtts, 0.99) };
}

/** MB/s of one download of `BYTES` bytes. */
async function download(port: number): Promise<number> {
  const s = await connect(port);
  const head = Buffer.alloc(8);
  head.writeBigUInt64BE(BigInt(BYTES));
  const t0 = performance.now();
  let got = 0;
  await new Promise<void>((resolve, reject) => {
    s.on('data', (b: Buffer) => (got += b.length));
    s.on('end', () => resolve());
    s.on('error', reject);
    s.write(head);
  });
  s.destroy();
  if (got !== BYTES) throw new Error(`download got ${got} of ${BYTES} bytes`);
  return BYTES / 1e6 / ((performance.now() - t0) / 1000);
}

async function api(url: string, method: string, p: string, body: unknown): Promise<{ listen: string }> {
  const res = await fetch(url + p, { method, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${await res.text()}`);
  return (await res.json()) as { listen: string };
}

try {
  const ports = JSON.parse(await start(['bench/proxy/upstream.ts'])) as { echo: number; source: number };
  const line = await start(['bench/proxy/serve.ts']);
  const url = /(http:\/\/\S+)$/.exec(line)![1];
  const pe = await api(url, 'POST', '/proxies', { name: 'bench->echo', listen: '127.0.0.1:0', upstream: `127.0.0.1:${ports.echo}` });
  const ps = await api(url, 'POST', '/proxies', { name: 'bench->source', listen: '127.0.0.1:0', upstream: `127.0.0.1:${ports.source}` });
  const proxied = { echo: Number(pe.listen.split(':')[1]), source: Number(ps.listen.split(':')[1]) };

  const [upstreamChild, proxyChild] = children;
  const cpu = { direct: { client: 0, upstream: 0, proxy: 0 }, proxy: { client: 0, upstream: 0, proxy: 0 } };
  const r = {
    direct: { p50: [] as number[], p99: [] as number[], mbs: [] as number[] },
    proxy: { p50: [] as number[], p99: [] as number[], mbs: [] as number[] },
  };
  for (let round = 0; round < ROUNDS; round++) {
    for (const [kind, p] of [
      ['direct', ports],
      ['proxy', proxied],
    ] as const) {
      const lat = await pingPong(p.echo);
      r[kind].p50.push(lat.p50);
      r[kind].p99.push(lat.p99);
      const before = { client: process.cpuUsage(), upstream: cpuSeconds(upstreamChild.pid), proxy: cpuSeconds(proxyChild.pid) };
      r[kind].mbs.push(await download(p.source));
      const used = process.cpuUsage(before.client);
      cpu[kind].client += (used.user + used.system) / 1e6;
      cpu[kind].upstream += cpuSeconds(upstreamChild.pid) - before.upstream;
      cpu[kind].proxy += cpuSeconds(proxyChild.pid) - before.proxy;
    }
  }
  const d = { p50: median(r.direct.p50), p99: median(r.direct.p99), mbs: median(r.direct.mbs) };
  const x = { p50: median(r.proxy.p50), p99: median(r.proxy.p99), mbs: median(r.proxy.mbs) };
  const perHundred = (c: { client: number; upstream: number; proxy: number }): string =>
    [c.client, c.upstream, c.proxy].map((sec) => ((sec * 1000 * 100e6) / (BYTES * ROUNDS)).toFixed(0)).join(' / ');
  const f = (n: number, digits = 0) => n.toFixed(digits).padStart(9);
  process.stdout.write(
    [
      `fault proxy, no toxic vs direct — ${ROUNDS} rounds (medians), ${PINGS} round trips of 64 B, ${BYTES / 1e6} MB download`,
      `                 direct      proxy      added / ratio`,
      `p50 RTT (µs) ${f(d.p50, 1)}  ${f(x.p50, 1)}  ${f(x.p50 - d.p50, 1)} µs`,
      `p99 RTT (µs) ${f(d.p99, 1)}  ${f(x.p99, 1)}  ${f(x.p99 - d.p99, 1)} µs`,
      `throughput   ${f(d.mbs)}  ${f(x.mbs)}  ${f((100 * x.mbs) / d.mbs, 1)} % of direct (MB/s)`,
      `CPU ms per 100 MB downloaded (client / upstream / proxy): direct ${perHundred(cpu.direct)}, via proxy ${perHundred(cpu.proxy)}`,
      `machine: ${availableParallelism()} CPUs, load average ${loadavg()[0].toFixed(1)} at the end`,
      `aim: < 100 µs added at p50 → ${x.p50 - d.p50 < 100 ? 'met' : 'NOT met'}; ≥ 80 % of direct throughput → ${x.mbs / d.mbs >= 0.8 ? 'met' : 'NOT met'}`,
      '',
    ].join('\n'),
  );
} finally {
  for (const c of children) c.kill('SIGTERM');
}
