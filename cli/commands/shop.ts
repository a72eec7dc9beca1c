/**
 * `faultline shop up`: the bundled sample shop under the supervisor, every
 * edge through a fault proxy (the Toxiproxy server at TOXIPROXY_URL when one
 * answers, otherwise faultline's embedded one), until SIGINT/SIGTERM.
 * `faultline shop status`: what a running supervisor reports.
 */
import type { Command } from 'commander';
import { z } from 'zod';
import { AppError } from '../../core/errors.js';
import { loadConfig } from '../../core/config.js';
import { parseWith } from '../../core/validate.js';
import { startFaultProxy } from '../../chaos/index.js';
import { SupervisorClient } from '../../workers/collectors/index.js';
import {
  isSupervisorError,
  parseBugList,
  parseInstanceCounts,
  startSupervisor,
  toxiproxyAnswers,
  type TInstanceInfo,
  type TSupervisor,
} from '../../shop/supervisor/index.js';

const port = (what: string) =>
  z.coerce
    .number({ error: `${what} must be a number` })
    .int(`${what} must be an integer`)
    .min(0, `${what} must be a port 0..65535`)
    .max(65535, `${what} must be a port 0..65535`);

const UpFlagsSchema = z.object({
  instances: z.string().optional(),
  portBase: port('--port-base')
    .refine((n) => n >= 1024 && n <= 65535 - 60, '--port-base must be 1024..65475')
    .optional(),
  toxiproxyUrl: z.url({ error: '--toxiproxy-url must be a URL like http://127.0.0.1:8474' }).optional(),
  proxy: z.boolean().default(true),
  bugs: z.string().optional(),
  restart: z.boolean().default(true),
  /** Start from the seed: drop the shop database first (run, gate and up do; plain `shop up` keeps data unless --fresh). */
  fresh: z.boolean().default(false),
  host: z.string().min(1).default('127.0.0.1'),
  advertiseHost: z.string().min(1).optional(),
  adminHost: z.string().min(1).default('127.0.0.1'),
  adminPort: port('--admin-port').optional(),
  logDir: z.string().min(1).optional(),
});

type TUpFlags = z.input<typeof UpFlagsSchema>;

/** Turn the supervisor's own error (shop/ does not import core/) into the platform's AppError. */
function toApp(e: unknown): unknown {
  if (isSupervisorError(e)) return new AppError(e.code, e.message, { issues: e.issues });
  return e;
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows
    .map((r) =>
      r
        .map((cell, c) => (cell ?? '').padEnd(widths[c]))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export function formatInstances(list: Pick<TInstanceInfo, 'id' | 'state' | 'pid' | 'url' | 'restarts'>[]): string {
  return table([['INSTANCE', 'STATE', 'PID', 'URL', 'RESTARTS'], ...list.map((i) => [i.id, i.state, String(i.pid ?? '-'), i.url, String(i.restarts)])]);
}

export function formatEdges(edges: { name: string; proxies: { name: string; listen: string; upstream: string }[] }[]): string {
  const rows = [['EDGE', 'PROXY', 'LISTEN', 'UPSTREAM']];
  for (const e of edges) {
    if (e.proxies.length === 0) rows.push([e.name, '(direct)', '-', '-']);
    for (const p of e.proxies) rows.push([e.name, p.name, p.listen, p.upstream]);
  }
  return table(rows);
}

/** A fault proxy to use: the configured server if it answers, else the embedded one. */
async function resolveProxy(
  flags: z.output<typeof UpFlagsSchema>,
  configured: string,
): Promise<{ url: string | null; close: () => Promise<void>; embedded: boolean }> {
  const none = async () => undefined;
  if (!flags.proxy) return { url: null, close: none, embedded: false };
  const url = flags.toxiproxyUrl ?? configured;
  if (await toxiproxyAnswers(url)) return { url, close: none, embedded: false };
  if (flags.toxiproxyUrl) {
    throw new AppError(
      'UNAVAILABLE',
      `no Toxiproxy server answers at ${url} (--toxiproxy-url); start it, or drop the flag to use the embedded fault proxy, or pass --no-proxy`,
    );
  }
  const u = new URL(url);
  const proxy = await startFaultProxy({ host: u.hostname, port: Number(u.port || 8474) });
  return { url: proxy.url, close: () => proxy.close(), embedded: true };
}

export async function shopUp(raw: TUpFlags, out: NodeJS.WritableStream = process.stdout): Promise<{ supervisor: TSupervisor; stop: () => Promise<void> }> {
  const flags = parseWith(UpFlagsSchema, raw, 'shop up options');
  const cfg = loadConfig();
  let counts, bugs;
  try {
    counts = parseInstanceCounts(flags.instances);
    bugs = parseBugList(flags.bugs ?? process.env.SHOP_BUGS);
  } catch (e) {
    throw toApp(e);
  }
  const envBase = process.env.SHOP_PORT_BASE ? parseWith(port('SHOP_PORT_BASE'), process.env.SHOP_PORT_BASE, 'environment') : undefined;
  const supervisorUrl = new URL(cfg.SUPERVISOR_URL);
  // The gateway is instance 0 at the port base, so SHOP_GATEWAY_URL's port is the base unless told otherwise.
  const gatewayPort = new URL(cfg.SHOP_GATEWAY_URL).port;
  const portBase = flags.portBase ?? envBase ?? (gatewayPort ? Number(gatewayPort) : undefined);
  const proxy = await resolveProxy(flags, cfg.TOXIPROXY_URL);
  let supervisor: TSupervisor;
  try {
    supervisor = await startSupervisor({
      instances: counts,
      portBase,
      host: flags.host,
      advertiseHost: flags.advertiseHost,
      adminHost: flags.adminHost,
      adminPort: flags.adminPort ?? Number(supervisorUrl.port || 8479),
      databaseUrl: cfg.SHOP_DATABASE_URL,
      redisUrl: cfg.REDIS_URL,
      toxiproxyUrl: proxy.url,
      bugs,
      restart: flags.restart,
      freshDatabase: flags.fresh,
      logDir: flags.logDir,
    });
  } catch (e) {
    await proxy.close();
    throw toApp(e);
  }
  const instances = supervisor.instances();
  out.write(
    [
      '',
      `shop ready: ${instances.length} instances${bugs.length ? `, bugs: ${bugs.join(', ')}` : ''}`,
      '',
      formatInstances(instances),
      '',
      formatEdges(supervisor.edges()),
      '',
      `gateway     ${supervisor.gatewayUrl}`,
      `supervisor  ${supervisor.url}`,
      `proxy       ${proxy.url ? `${proxy.url}${proxy.embedded ? ' (embedded)' : ''}` : 'none (edges direct)'}`,
      `logs        ${flags.logDir ?? '.faultline/logs'}/<instance>.log`,
      '',
      'Ctrl-C stops everything.',
      '',
    ].join('\n'),
  );
  let stopping: Promise<void> | null = null;
  const stop = () =>
    (stopping ??= (async () => {
      await supervisor.close();
      await proxy.close();
    })());
  return { supervisor, stop };
}

export function register(program: Command): void {
  const shop = program.command('shop').description('the bundled sample shop (system under test)');
  shop
    .command('up')
    .description('start the shop: N instances per service behind per-edge fault proxies, with the supervisor admin API')
    .option('--instances <list>', 'instances per service, e.g. payments=2,orders=2 (default 1 each, max 10)')
    .option('--port-base <port>', 'SHOP_PORT_BASE: gateway on base, users +10, catalog +20, orders +30, payments +40')
    .option('--toxiproxy-url <url>', 'use this Toxiproxy server (default TOXIPROXY_URL if one answers, else the embedded proxy)')
    .option('--no-proxy', 'no fault proxies: every edge direct')
    .option('--bugs <list>', 'bug switches (SHOP_BUGS): double-charge, missing-compensation, breaker-disabled, lost-ack, oversell')
    .option('--no-restart', 'leave crashed instances down')
    .option('--fresh', 'drop the shop database first and start from the seed (earlier runs leave orders, and any anomaly, behind)')
    .option('--host <addr>', 'address the services bind (0.0.0.0 in containers)', '127.0.0.1')
    .option('--advertise-host <host>', 'host the proxy server and collectors use to reach the instances')
    .option('--admin-host <addr>', 'address of the supervisor admin API', '127.0.0.1')
    .option('--admin-port <port>', 'port of the supervisor admin API (default: the port of SUPERVISOR_URL)')
    .option('--log-dir <dir>', 'per-instance log files (default .faultline/logs)')
    .action(async (opts: TUpFlags) => {
      const { stop } = await shopUp(opts);
      await new Promise<void>((resolve) => {
        const onSignal = (sig: NodeJS.Signals) => {
          process.stdout.write(`\n${sig}: stopping the shop…\n`);
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
          void stop().then(resolve, resolve);
        };
        process.on('SIGINT', onSignal);
        process.on('SIGTERM', onSignal);
      });
      process.stdout.write('shop stopped\n');
    });

  shop
    .command('status')
    .description('instances and edges of the running shop')
    .option('--url <url>', 'supervisor admin API (default SUPERVISOR_URL)')
    .action(async (opts: { url?: string }) => {
      process.stdout.write(await shopStatus(opts.url));
    });
}

/** The `shop status` text: instances and edges as the supervisor at `url` reports them. */
export async function shopStatus(url?: string): Promise<string> {
  const base = url ?? loadConfig().SUPERVISOR_URL;
  const sup = new SupervisorClient({ url: base, timeoutMs: 3000 });
  try {
    const [instances, edges] = await Promise.all([sup.instances(), sup.edges()]);
    return `${formatInstances(instances)}\n\n${formatEdges(edges)}\n`;
  } catch (e) {
    // it answered (an HTTP status): say what; it did not: say how to start one
    const answered = (e as { status?: number }).status !== undefined;
    const why = answered
      ? (e as Error).message
      : `no shop supervisor answers at ${base}${url ? '' : ' (SUPERVISOR_URL)'}; start one with \`faultline shop up\``;
    throw new AppError('UNAVAILABLE', why, { cause: e });
  }
}
