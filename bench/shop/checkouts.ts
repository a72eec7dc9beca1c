/**
 * bench/shop: sustained checkouts/s and client-side latency of the supervised
 * shop at fixed arrival rates (open model), on this machine.
 *
 *   npm run bench:shop -- [--rates 25,50,100,200] [--seconds 10] [--instances payments=2] [--no-proxy] [--log-dir DIR]
 *
 *   start shop (fresh database, fault proxies on every edge unless --no-proxy)
 *     → register + log in users (the gateway rate-limits per token)
 *     → warm up → for each rate: fire checkouts on schedule, whatever the
 *       latency (arrivals never wait for answers), measure each answer from
 *       its send time (latency) and from its scheduled time (corrected, which
 *       shows the queueing a closed-loop client would hide)
 *     → print a table; stop the shop, drop the database
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as hdr from 'hdr-histogram-js';
import { Pool } from 'undici';
import { z } from 'zod';
import { toAppError } from '../../core/errors.js';
import { parseWith } from '../../core/validate.js';
import { dropShopDatabase } from '../../shop/db/index.js';
import { parseInstanceCounts, startSupervisor, toxiproxyAnswers, type TSupervisor } from '../../shop/supervisor/index.js';
import { freePort, freePortBase, waitFor } from '../../shop/supervisor/test/helpers.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * `faultline proxy` as its own process, as in production: run in this
 * process, the proxy would share one event loop with the load generator and
 * the figures would measure that contention.
 */
async function startProxyProcess(): Promise<{ url: string; close: () => Promise<void> }> {
  const port = await freePort();
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(repoRoot, 'cli', 'main.ts'), 'proxy', '--host', '127.0.0.1', '--port', String(port)],
    {
      cwd: repoRoot,
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  const url = `http://127.0.0.1:${port}`;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  await waitFor('the fault proxy process', () => toxiproxyAnswers(url), 30_000, 100);
  return {
    url,
    close: async () => {
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(5000).then(() => child.kill('SIGKILL'))]);
    },
  };
}

const ArgsSchema = z.object({
  rates: z
    .string()
    .default('25,50,100,200')
    .transform((s) => s.split(',').map(Number))
    .pipe(z.array(z.number().positive().max(2000)).min(1)),
  seconds: z.coerce.number().positive().max(120).default(10),
  warmup: z.coerce.number().min(0).max(60).default(3),
  users: z.coerce.number().int().min(1).max(200).default(20),
  instances: z.string().default(''),
  proxy: z.boolean().default(true),
  /** Keep the instances' logs (level info) here, to look into a slow step. */
  logDir: z.string().min(1).optional(),
});

interface TStep {
  rate: number;
  sent: number;
  ok: number;
  byStatus: Map<string, number>;
  seconds: number;
  latency: hdr.Histogram;
  corrected: hdr.Histogram;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rates: { type: 'string' },
      seconds: { type: 'string' },
      warmup: { type: 'string' },
      users: { type: 'string' },
      instances: { type: 'string' },
      'no-proxy': { type: 'boolean' },
      'log-dir': { type: 'string' },
    },
  });
  const args = parseWith(ArgsSchema, { ...values, proxy: !values['no-proxy'], logDir: values['log-dir'] }, 'bench options');
  const counts = parseInstanceCounts(args.instances);
  const tag = randomBytes(4).toString('hex');
  const databaseUrl = `postgres://postgres@127.0.0.1:5432/fl_bench_${tag}`;
  const prefix = `flbench${tag}`;

  const proxy = args.proxy ? await startProxyProcess() : null;
  let sup: TSupervisor | undefined;
  try {
    process.stdout.write('starting the shop…\n');
    sup = await startSupervisor({
      instances: counts,
      portBase: await freePortBase(),
      adminPort: 0,
      databaseUrl,
      toxiproxyUrl: proxy?.url ?? null,
      logDir: args.logDir ?? null,
      env: { SHOP_REGISTRY_PREFIX: `${prefix}:registry`, SHOP_REDIS_PREFIX: prefix, LOG_LEVEL: args.logDir ? 'info' : 'warn' },
    });
    const gw = sup.gatewayUrl;
    const pool = new Pool(gw, { connections: 512, pipelining: 1 });
    const post = async (p: string, body: unknown, headers: Record<string, string> = {}) => {
      const r = await pool.request({
        path: p,
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
        headersTimeout: 30_000,
        bodyTimeout: 30_000,
      });
      const text = await r.body.text();
      return { status: r.statusCode, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
    };

    const tokens: string[] = [];
    for (let i = 0; i < args.users; i++) {
      const email = `bench-${tag}-${i}@shop.test`;
      await post('/users', { email, password: 'bench-password-1', name: `bench ${i}` });
      const l = await post('/login', { email, password: 'bench-password-1' });
      if (l.status !== 200) throw new Error(`login of ${email} failed: HTTP ${l.status}`);
      tokens.push(String(l.json.token));
    }
    const productsRes = await pool.request({ path: '/products', method: 'GET' });
    const products = ((await productsRes.body.json()) as { products: { id: string; sku: string; available: number }[] }).products.filter(
      (p) => p.sku !== 'BIG-TICKET' && p.available >= 300,
    );

    let n = 0;
    const runStep = async (rate: number, seconds: number): Promise<TStep> => {
      const step: TStep = {
        rate,
        sent: 0,
        ok: 0,
        byStatus: new Map(),
        seconds,
        latency: hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: 3 }),
        corrected: hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: 3 }),
      };
      const total = Math.round(rate * seconds);
      const start = performance.now() + 20;
      const pending: Promise<void>[] = [];
      for (let i = 0; i < total; i++) {
        const due = start + (i * 1000) / rate;
        const wait = due - performance.now();
        if (wait > 1) await sleep(wait);
        const k = n++;
        step.sent++;
        pending.push(
          (async () => {
            const sentAt = performance.now();
            let key: string;
            try {
              const r = await post(
                '/checkout',
                { items: [{ productId: products[k % products.length].id, qty: 1 }] },
                { authorization: `Bearer ${tokens[k % tokens.length]}`, 'idempotency-key': randomUUID() },
              );
              key = String(r.status);
              if (r.status === 201) step.ok++;
            } catch (e) {
              key = `error ${(e as { code?: string }).code ?? (e as Error).name}`;
            }
            const end = performance.now();
            // microseconds in the histograms
            step.latency.recordValue(Math.max(1, Math.round((end - sentAt) * 1000)));
            step.corrected.recordValue(Math.max(1, Math.round((end - due) * 1000)));
            step.byStatus.set(key, (step.byStatus.get(key) ?? 0) + 1);
          })(),
        );
      }
      await Promise.all(pending);
      step.seconds = (performance.now() - start) / 1000;
      return step;
    };

    if (args.warmup > 0) {
      process.stdout.write(`warm-up: ${args.warmup} s at ${args.rates[0]}/s\n`);
      await runStep(args.rates[0], args.warmup);
    }
    const steps: TStep[] = [];
    for (const rate of args.rates) {
      process.stdout.write(`measuring ${rate} checkouts/s for ${args.seconds} s…\n`);
      steps.push(await runStep(rate, args.seconds));
    }
    await pool.close();

    const ms = (h: hdr.Histogram, p: number) => (h.getValueAtPercentile(p) / 1000).toFixed(1);
    const inst = sup.instances().reduce<Record<string, number>>((m, i) => ((m[i.service] = (m[i.service] ?? 0) + 1), m), {});
    const rows = [
      ['target/s', 'sent', 'ok (201)', 'ok/s', 'ok %', 'p50 ms', 'p99 ms', 'max ms', 'corr p50', 'corr p99', 'other answers'],
      ...steps.map((s) => [
        String(s.rate),
        String(s.sent),
        String(s.ok),
        (s.ok / s.seconds).toFixed(1),
        ((100 * s.ok) / Math.max(1, s.sent)).toFixed(1),
        ms(s.latency, 50),
        ms(s.latency, 99),
        (s.latency.maxValue / 1000).toFixed(1),
        ms(s.corrected, 50),
        ms(s.corrected, 99),
        [...s.byStatus.entries()]
          .filter(([k]) => k !== '201')
          .map(([k, v]) => `${k}×${v}`)
          .join(' ') || '-',
      ]),
    ];
    const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
    process.stdout.write(
      [
        '',
        `shop: ${Object.entries(inst)
          .map(([s, c]) => `${s}×${c}`)
          .join(' ')}, ${proxy ? 'every edge through the fault proxy (faultline proxy, own process)' : 'edges direct (no proxy)'}, ${args.users} users`,
        ...rows.map((r) => r.map((c, i) => (i === 0 || i === rows[0].length - 1 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')),
        '',
      ].join('\n'),
    );
    // Sustained = completions kept pace with arrivals (no growing backlog) and nearly all succeeded.
    const keptPace = (s: TStep) => s.ok / s.seconds >= 0.95 * s.rate && s.ok / Math.max(1, s.sent) >= 0.99;
    const sustained = steps.filter(keptPace).sort((a, b) => b.rate - a.rate)[0];
    process.stdout.write(
      sustained
        ? `sustained: ${(sustained.ok / sustained.seconds).toFixed(1)} checkouts/s (arrival rate ${sustained.rate}/s, ≥ 99 % answered 201, completions within 5 % of arrivals), p50 ${ms(sustained.latency, 50)} ms, p99 ${ms(sustained.latency, 99)} ms\n`
        : 'sustained: no measured rate was kept up with (≥ 95 % of arrivals completed as 201 within the step)\n',
    );
  } finally {
    await sup?.close();
    await proxy?.close();
    await dropShopDatabase(databaseUrl).catch(() => undefined);
    const { Redis } = await import('ioredis');
    const redis = new Redis('redis://127.0.0.1:6379');
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  }
}

main().catch((e) => {
  process.stderr.write(`bench:shop: ${toAppError(e).toText()}\n`);
  process.exitCode = 2;
});
