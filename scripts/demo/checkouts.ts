/**
 * Traffic for a running shop (`faultline shop up`): a short burst of checkouts through the gateway at
 * a fixed arrival rate, then a summary of what happened — answers by status,
 * client-side latency, the orders' final states (read back through the
 * public API) and the circuit breakers' states (from each instance's
 * /metrics, located through the supervisor).
 *
 *   tsx scripts/demo/checkouts.ts [--rate 20] [--duration 10]
 *   (SHOP_GATEWAY_URL, SUPERVISOR_URL as in docs/architecture.md)
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { loadConfig } from '../../core/config.js';
import { parseWith } from '../../core/validate.js';
import { toAppError } from '../../core/errors.js';

const ArgsSchema = z.object({
  rate: z.coerce.number().positive().max(500).default(20),
  duration: z.coerce.number().positive().max(300).default(10),
  /** Share of checkouts that buy two BIG-TICKET items (above the payment limit → declined, compensated). */
  declineShare: z.coerce.number().min(0).max(1).default(0.05),
});

const BREAKER_STATES = ['closed', 'open', 'half-open'] as const;

interface TOutcome {
  status: number;
  latencyMs: number;
  orderId?: string;
  error?: string;
}

async function call(url: string, init: RequestInit & { timeoutMs?: number } = {}): Promise<{ status: number; body: unknown; error?: string }> {
  try {
    const r = await fetch(url, { ...init, signal: AbortSignal.timeout(init.timeoutMs ?? 10_000) });
    const text = await r.text();
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      /* keep the text */
    }
    return { status: r.status, body };
  } catch (e) {
    return { status: 0, body: undefined, error: (e as Error).name === 'TimeoutError' ? 'timeout' : (e as Error).message };
  }
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { rate: { type: 'string' }, duration: { type: 'string' }, 'decline-share': { type: 'string' } } });
  const args = parseWith(ArgsSchema, { rate: values.rate, duration: values.duration, declineShare: values['decline-share'] }, 'demo options');
  const cfg = loadConfig();
  const gw = cfg.SHOP_GATEWAY_URL.replace(/\/+$/, '');
  const json = { 'content-type': 'application/json' };

  const login = await call(`${gw}/login`, {
    method: 'POST',
    headers: json,
    body: JSON.stringify({ email: 'loadtest@shop.test', password: 'loadtest-password' }),
  });
  const token = (login.body as { token?: string } | undefined)?.token;
  if (login.status !== 200 || !token) throw new Error(`login through ${gw} failed: HTTP ${login.status} ${login.error ?? JSON.stringify(login.body)}`);
  const auth = { ...json, authorization: `Bearer ${token}` };
  const products = ((await call(`${gw}/products`)).body as { products?: { id: string; sku: string; available: number }[] } | undefined)?.products ?? [];
  const cheap = products.filter((p) => p.sku !== 'BIG-TICKET' && p.available > 50);
  const big = products.find((p) => p.sku === 'BIG-TICKET');
  if (cheap.length === 0) throw new Error('the shop has no products in stock: was it seeded?');

  // Open model: arrivals follow the schedule whatever the latency, so a slow shop shows as latency, not as fewer requests.
  const total = Math.round(args.rate * args.duration);
  const intervalMs = 1000 / args.rate;
  process.stdout.write(`driving ${total} checkouts at ${args.rate}/s for ${args.duration} s through ${gw} …\n`);
  const started = performance.now();
  const inflight: Promise<TOutcome>[] = [];
  for (let i = 0; i < total; i++) {
    const due = started + i * intervalMs;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const declined = big && Math.random() < args.declineShare;
    const items = declined ? [{ productId: big.id, qty: 2 }] : [{ productId: cheap[i % cheap.length].id, qty: 1 + (i % 2) }];
    inflight.push(
      (async () => {
        const t0 = performance.now();
        const r = await call(`${gw}/checkout`, { method: 'POST', headers: { ...auth, 'idempotency-key': randomUUID() }, body: JSON.stringify({ items }) });
        return { status: r.status, latencyMs: performance.now() - t0, orderId: (r.body as { orderId?: string } | undefined)?.orderId, error: r.error };
      })(),
    );
  }
  const outcomes = await Promise.all(inflight);
  const elapsed = (performance.now() - started) / 1000;

  const byStatus = new Map<string, number>();
  for (const o of outcomes) {
    const k = o.status === 0 ? `error (${o.error})` : String(o.status);
    byStatus.set(k, (byStatus.get(k) ?? 0) + 1);
  }
  const lat = outcomes.map((o) => o.latencyMs).sort((a, b) => a - b);

  // Final order states, read back through the public API (the saga may still be compensating).
  const orderStates = new Map<string, number>();
  for (const o of outcomes.filter((x) => x.orderId)) {
    const r = await call(`${gw}/orders/${o.orderId}`, { headers: auth });
    const st = r.status === 200 ? String((r.body as { status?: string }).status) : `HTTP ${r.status}`;
    orderStates.set(st, (orderStates.get(st) ?? 0) + 1);
  }

  const breakers = await breakerStates(cfg.SUPERVISOR_URL);

  const lines = [
    '',
    `checkouts: ${outcomes.length} in ${elapsed.toFixed(1)} s (${(outcomes.length / elapsed).toFixed(1)}/s)`,
    ...[...byStatus.entries()].sort().map(([k, n]) => `  ${k.padEnd(22)} ${String(n).padStart(5)}  ${label(k)}`),
    `latency (client): p50 ${percentile(lat, 50).toFixed(1)} ms, p99 ${percentile(lat, 99).toFixed(1)} ms, max ${lat[lat.length - 1].toFixed(1)} ms`,
    `orders by status: ${[...orderStates.entries()].map(([k, n]) => `${k} ${n}`).join(', ') || 'none'}`,
    'circuit breakers:',
    ...(breakers.length ? breakers.map((b) => `  ${b.instance.padEnd(12)} ${b.breaker.padEnd(22)} ${b.state}`) : ['  (no breaker metrics found)']),
    '',
  ];
  process.stdout.write(lines.join('\n'));
}

function label(status: string): string {
  return (
    (
      {
        '201': 'confirmed',
        '402': 'payment declined (compensated)',
        '409': 'out of stock / key in flight',
        '429': 'rate limited',
        '503': 'unavailable',
      } as Record<string, string>
    )[status] ?? ''
  );
}

/** circuit_breaker_state of every instance that exposes one (0 closed, 1 open, 2 half-open). */
async function breakerStates(supervisorUrl: string): Promise<{ instance: string; breaker: string; state: string }[]> {
  const r = await call(`${supervisorUrl.replace(/\/+$/, '')}/instances`, { timeoutMs: 3000 });
  if (r.status !== 200 || !Array.isArray(r.body)) return [];
  const out: { instance: string; breaker: string; state: string }[] = [];
  for (const inst of r.body as { id: string; port: number; state: string }[]) {
    if (inst.state !== 'running') continue;
    const m = await call(`http://127.0.0.1:${inst.port}/metrics`, { timeoutMs: 3000 });
    if (m.status !== 200 || typeof m.body !== 'string') continue;
    for (const line of m.body.split('\n')) {
      const match = /^circuit_breaker_state\{([^}]*)\}\s+(\d+)/.exec(line);
      if (!match) continue;
      const breaker = /breaker="([^"]*)"/.exec(match[1])?.[1] ?? '?';
      out.push({ instance: inst.id, breaker, state: BREAKER_STATES[Number(match[2])] ?? `state ${match[2]}` });
    }
  }
  return out;
}

main().catch((e) => {
  process.stderr.write(`demo: ${toAppError(e).toText()}\n`);
  process.exitCode = 2;
});
