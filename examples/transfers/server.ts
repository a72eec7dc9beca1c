/**
 * transfers: a small money-transfer service, the second system under test
 * (issue 12). Deliberately unlike the shop — plain node:http, one process
 * with an API and a Redis-backed settlement worker, its own metric names, a
 * Resilience4j-shaped breaker metric — and written without any faultline or
 * shop library, so its target file (target.yaml) is all faultline knows of it.
 *
 *   POST /transfers {from,to,amountCents} + Idempotency-Key
 *      └▶ INSERT bank.transfers (pending) ─▶ LPUSH <prefix>queue ─▶ 202 {transferId}
 *   worker: BLMOVE queue → processing ─▶ settle in ONE transaction:
 *      lock both accounts, debit, credit, two ledger legs, status settled|rejected
 *      ─▶ LREM processing; on start, processing is moved back to the queue
 *   sweeper: pending transfers not in Redis (enqueue failed) are re-queued
 *
 * Bug switch TRANSFERS_BUGS=split-settle: debit and credit commit in two
 * transactions; a crash or a dropped connection between them, and the retry
 * debits again — the money-conserved invariant of target.yaml must catch it.
 *
 * Environment: TRANSFERS_PORT (0 = any), TRANSFERS_HOST (127.0.0.1),
 * TRANSFERS_DATABASE_URL, TRANSFERS_REDIS_URL, TRANSFERS_REDIS_PREFIX
 * (transfers:), TRANSFERS_BUGS, TRANSFERS_BUG_GAP_MS (30), TRANSFERS_PID_FILE,
 * TRANSFERS_LOG_FILE.
 */
import { randomUUID } from 'node:crypto';
import { appendFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import pg from 'pg';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

const env = process.env;
const PREFIX = env.TRANSFERS_REDIS_PREFIX ?? 'transfers:';
const QUEUE = `${PREFIX}queue`;
const PROCESSING = `${PREFIX}processing`;
const BUGS = new Set((env.TRANSFERS_BUGS ?? '').split(',').filter(Boolean));
/** The round trip between the two transactions of the split-settle bug (TRANSFERS_BUG_GAP_MS). */
const BUG_GAP_MS = Number(env.TRANSFERS_BUG_GAP_MS ?? 30);
const INITIAL_ACCOUNTS = 20;
const INITIAL_BALANCE = 100_000;

function log(level: 'info' | 'warn' | 'error', msg: string, fields: Record<string, unknown> = {}) {
  const line = JSON.stringify({ ts: new Date().toISOString(), level, app: 'transfers', msg, ...fields });
  if (env.TRANSFERS_LOG_FILE) appendFileSync(env.TRANSFERS_LOG_FILE, `${line}\n`);
  else process.stdout.write(`${line}\n`);
}

// ---------- metrics: its own names, not faultline's ----------
const registry = new Registry();
const httpSeconds = new Histogram({
  name: 'bank_http_request_seconds',
  help: 'API requests',
  labelNames: ['verb', 'path', 'code'],
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [registry],
});
const settled = new Counter({ name: 'bank_transfers_settled_total', help: 'transfers settled by outcome', labelNames: ['outcome'], registers: [registry] });
const queueDepth = new Gauge({ name: 'bank_queue_depth', help: 'transfers waiting in Redis', registers: [registry] });
const breakerState = new Gauge({
  name: 'resilience4j_circuitbreaker_state',
  help: 'breaker state, one series per state',
  labelNames: ['name', 'state'],
  registers: [registry],
});

/** A small breaker around the Redis enqueue: 5 failures in a row open it for 3 s. */
class Breaker {
  private failures = 0;
  private openUntil = 0;
  constructor(private readonly name: string) {
    this.publish('closed');
  }
  private publish(state: 'closed' | 'open' | 'half_open') {
    for (const s of ['closed', 'open', 'half_open']) breakerState.set({ name: this.name, state: s }, s === state ? 1 : 0);
  }
  async call<T>(fn: () => Promise<T>): Promise<T> {
    const now = Date.now();
    if (now < this.openUntil) throw new Error(`breaker ${this.name} open`);
    if (this.openUntil) this.publish('half_open');
    try {
      const v = await fn();
      this.failures = 0;
      this.openUntil = 0;
      this.publish('closed');
      return v;
    } catch (e) {
      if (++this.failures >= 5 || this.openUntil) {
        this.openUntil = Date.now() + 3000;
        this.publish('open');
      }
      throw e;
    }
  }
}

const db = new pg.Pool({
  connectionString: env.TRANSFERS_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/transfers',
  max: 10,
  connectionTimeoutMillis: 3000,
});
db.on('error', (e) => log('warn', 'idle database connection failed', { err: e.message }));
const redisUrl = env.TRANSFERS_REDIS_URL ?? 'redis://127.0.0.1:6379';
const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1, enableOfflineQueue: false });
const blocking = new Redis(redisUrl, { maxRetriesPerRequest: null });
redis.on('error', () => undefined);
blocking.on('error', () => undefined);
const enqueueBreaker = new Breaker('redis');

async function migrate() {
  await db.query(`CREATE SCHEMA IF NOT EXISTS bank;
    CREATE TABLE IF NOT EXISTS bank.accounts (id text PRIMARY KEY, balance_cents bigint NOT NULL, opened_cents bigint NOT NULL);
    CREATE TABLE IF NOT EXISTS bank.transfers (
      id text PRIMARY KEY, idempotency_key text UNIQUE NOT NULL, from_account text NOT NULL REFERENCES bank.accounts(id),
      to_account text NOT NULL REFERENCES bank.accounts(id), amount_cents bigint NOT NULL CHECK (amount_cents > 0),
      status text NOT NULL, reason text, created_at timestamptz NOT NULL DEFAULT now(), settled_at timestamptz);
    CREATE TABLE IF NOT EXISTS bank.ledger (id bigserial PRIMARY KEY, transfer_id text NOT NULL REFERENCES bank.transfers(id),
      account_id text NOT NULL REFERENCES bank.accounts(id), delta_cents bigint NOT NULL, at timestamptz NOT NULL DEFAULT now());
    INSERT INTO bank.accounts (id, balance_cents, opened_cents)
      SELECT 'acct-' || lpad(g::text, 2, '0'), ${INITIAL_BALANCE}, ${INITIAL_BALANCE} FROM generate_series(1, ${INITIAL_ACCOUNTS}) g
      ON CONFLICT DO NOTHING;`);
}

// ---------- settlement ----------
async function settle(id: string): Promise<void> {
  const c = await db.connect();
  // A connection reset while the settlement holds this client must fail the
  // settlement (it is retried), not the process: pg emits 'error' on a
  // checked-out client, and with no listener that is an uncaught exception.
  // (Found by faultline's transfers-postgres-reset experiment.)
  let broken: Error | undefined;
  const onError = (e: Error) => {
    broken = e;
    log('warn', 'settlement connection failed', { transferId: id, err: e.message });
  };
  c.on('error', onError);
  try {
    await c.query('BEGIN');
    const t = (await c.query('SELECT * FROM bank.transfers WHERE id = $1 FOR UPDATE', [id])).rows[0];
    if (!t || t.status === 'settled' || t.status === 'rejected') {
      await c.query('ROLLBACK');
      return;
    }
    const [a, b] = [t.from_account, t.to_account].sort();
    await c.query('SELECT id FROM bank.accounts WHERE id IN ($1, $2) ORDER BY id FOR UPDATE', [a, b]);
    const from = (await c.query('SELECT balance_cents FROM bank.accounts WHERE id = $1', [t.from_account])).rows[0];
    if (Number(from.balance_cents) < Number(t.amount_cents)) {
      await c.query(`UPDATE bank.transfers SET status = 'rejected', reason = 'insufficient_funds', settled_at = now() WHERE id = $1`, [id]);
      await c.query('COMMIT');
      settled.inc({ outcome: 'rejected' });
      return;
    }
    await c.query('UPDATE bank.accounts SET balance_cents = balance_cents - $2 WHERE id = $1', [t.from_account, t.amount_cents]);
    await c.query('INSERT INTO bank.ledger (transfer_id, account_id, delta_cents) VALUES ($1, $2, $3)', [id, t.from_account, -t.amount_cents]);
    if (BUGS.has('split-settle')) {
      // BUG (split-settle): the debit commits on its own, the transfer still
      // pending; the credit follows in a second transaction after a round
      // trip. A crash or a dropped database connection in between, and the
      // retry debits again: money disappears.
      await c.query('COMMIT');
      log('info', 'debit committed; credit follows', { transferId: id, account: t.from_account, amountCents: Number(t.amount_cents) });
      await new Promise((r) => setTimeout(r, BUG_GAP_MS));
      await c.query('BEGIN');
    }
    await c.query('UPDATE bank.accounts SET balance_cents = balance_cents + $2 WHERE id = $1', [t.to_account, t.amount_cents]);
    await c.query('INSERT INTO bank.ledger (transfer_id, account_id, delta_cents) VALUES ($1, $2, $3)', [id, t.to_account, t.amount_cents]);
    await c.query(`UPDATE bank.transfers SET status = 'settled', settled_at = now() WHERE id = $1`, [id]);
    await c.query('COMMIT');
    settled.inc({ outcome: 'settled' });
    log('info', 'transfer settled', { transferId: id, from: t.from_account, to: t.to_account, amountCents: Number(t.amount_cents) });
  } catch (e) {
    await c.query('ROLLBACK').catch(() => undefined);
    broken ??= e as Error;
    throw e;
  } finally {
    c.off('error', onError);
    // a client that failed is destroyed rather than handed to the next settlement
    c.release(broken);
  }
}

let stopping = false;
async function workLoop(): Promise<void> {
  while (!stopping) {
    let id: string | null = null;
    try {
      id = await blocking.blmove(QUEUE, PROCESSING, 'RIGHT', 'LEFT', 1);
      if (!id) continue;
      await settle(id);
      await redis.lrem(PROCESSING, 1, id);
    } catch (e) {
      log('warn', 'settlement failed; retried', { transferId: id, err: (e as Error).message });
      if (id) await redis.lmove(PROCESSING, QUEUE, 'LEFT', 'LEFT').catch(() => undefined);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/** Pending transfers older than a few seconds that Redis does not hold (enqueue failed, Redis lost them) go back in the queue. */
async function sweep(): Promise<void> {
  try {
    const queued = new Set([...(await redis.lrange(QUEUE, 0, -1)), ...(await redis.lrange(PROCESSING, 0, -1))]);
    queueDepth.set(queued.size);
    const r = await db.query(
      `SELECT id FROM bank.transfers WHERE status = 'pending' AND created_at < now() - interval '2 seconds' ORDER BY created_at LIMIT 200`,
    );
    const lost = r.rows.map((x) => x.id as string).filter((id) => !queued.has(id));
    if (lost.length) await redis.lpush(QUEUE, ...lost);
  } catch {
    // database or Redis down: the next pass retries
  }
}

// ---------- API ----------
async function body(req: IncomingMessage): Promise<unknown> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > 64 * 1024) throw Object.assign(new Error('body too large'), { status: 413 });
    chunks.push(c as Buffer);
  }
  try {
    return chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {};
  } catch {
    throw Object.assign(new Error('body is not JSON'), { status: 400 });
  }
}

function send(res: ServerResponse, status: number, data: unknown) {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(data));
}

async function createTransfer(req: IncomingMessage, res: ServerResponse) {
  const key = req.headers['idempotency-key'];
  if (typeof key !== 'string' || key.length === 0 || key.length > 200) return send(res, 400, { error: 'header Idempotency-Key is required' });
  const b = (await body(req)) as { from?: unknown; to?: unknown; amountCents?: unknown };
  if (typeof b.from !== 'string' || typeof b.to !== 'string' || b.from === b.to) return send(res, 400, { error: 'from and to: two different account ids' });
  if (!Number.isInteger(b.amountCents) || (b.amountCents as number) <= 0 || (b.amountCents as number) > 1_000_000)
    return send(res, 400, { error: 'amountCents: a whole number from 1 to 1000000' });
  const id = randomUUID();
  const ins = await db.query(
    `INSERT INTO bank.transfers (id, idempotency_key, from_account, to_account, amount_cents, status)
     SELECT $1, $2, $3, $4, $5, 'pending' WHERE EXISTS (SELECT 1 FROM bank.accounts WHERE id = $3) AND EXISTS (SELECT 1 FROM bank.accounts WHERE id = $4)
     ON CONFLICT (idempotency_key) DO NOTHING RETURNING id`,
    [id, key, b.from, b.to, b.amountCents],
  );
  if (!ins.rows[0]) {
    const prev = (await db.query('SELECT id, status FROM bank.transfers WHERE idempotency_key = $1', [key])).rows[0];
    if (!prev) return send(res, 404, { error: 'unknown account' });
    return send(res, 202, { transferId: prev.id, status: prev.status, replayed: true });
  }
  // Acknowledged once the row is committed; a failed enqueue is picked up by the sweeper.
  await enqueueBreaker
    .call(() => redis.lpush(QUEUE, id))
    .catch((e: Error) => log('warn', 'enqueue failed; the sweeper re-queues', { transferId: id, err: e.message }));
  log('info', 'transfer accepted', { transferId: id, from: b.from, to: b.to, amountCents: b.amountCents });
  send(res, 202, { transferId: id, status: 'pending' });
}

async function route(req: IncomingMessage, res: ServerResponse): Promise<string> {
  const url = new URL(req.url ?? '/', 'http://x');
  if (req.method === 'GET' && url.pathname === '/health') {
    await db.query('SELECT 1');
    send(res, 200, { ok: true });
    return '/health';
  }
  if (req.method === 'GET' && url.pathname === '/metrics') {
    res.writeHead(200, { 'content-type': registry.contentType }).end(await registry.metrics());
    return '/metrics';
  }
  if (req.method === 'POST' && url.pathname === '/transfers') {
    await createTransfer(req, res);
    return '/transfers';
  }
  let m = /^\/transfers\/([0-9a-f-]{36})$/.exec(url.pathname);
  if (req.method === 'GET' && m) {
    const t = (await db.query('SELECT id, from_account, to_account, amount_cents, status, reason FROM bank.transfers WHERE id = $1', [m[1]])).rows[0];
    if (t) send(res, 200, { ...t, amount_cents: Number(t.amount_cents) });
    else send(res, 404, { error: 'not found' });
    return '/transfers/:id';
  }
  m = /^\/accounts\/([a-z0-9-]{1,40})$/.exec(url.pathname);
  if (req.method === 'GET' && m) {
    const a = (await db.query('SELECT id, balance_cents FROM bank.accounts WHERE id = $1', [m[1]])).rows[0];
    if (a) send(res, 200, { id: a.id, balanceCents: Number(a.balance_cents) });
    else send(res, 404, { error: 'not found' });
    return '/accounts/:id';
  }
  send(res, 404, { error: 'no such route' });
  return 'unmatched';
}

const server = createServer((req, res) => {
  const end = httpSeconds.startTimer();
  route(req, res)
    .then((path) => end({ verb: req.method ?? '', path, code: String(res.statusCode) }))
    .catch((e: Error & { status?: number }) => {
      if (!res.headersSent) send(res, e.status ?? 503, { error: e.status ? e.message : `unavailable: ${e.message}` });
      end({ verb: req.method ?? '', path: 'error', code: String(res.statusCode) });
    });
});

async function main() {
  await migrate();
  // commands fail at once while not connected (no offline queue): wait for Redis first,
  // or the recovery below would silently skip what a crash left in processing
  if (redis.status !== 'ready') await new Promise((ok) => redis.once('ready', ok));
  // a crash mid-settlement left ids in processing: put them back
  while (await redis.lmove(PROCESSING, QUEUE, 'LEFT', 'RIGHT').catch(() => null));
  await new Promise<void>((ok) => server.listen(Number(env.TRANSFERS_PORT ?? 0), env.TRANSFERS_HOST ?? '127.0.0.1', ok));
  const port = (server.address() as AddressInfo).port;
  if (env.TRANSFERS_PID_FILE) writeFileSync(env.TRANSFERS_PID_FILE, String(process.pid));
  const sweeper = setInterval(() => void sweep(), 1000);
  const worker = workLoop();
  log('info', 'transfers listening', { port, bugs: [...BUGS] });
  process.stdout.write(`listening ${port}\n`);
  const stop = async () => {
    stopping = true;
    clearInterval(sweeper);
    server.close();
    await worker;
    blocking.disconnect();
    redis.disconnect();
    await db.end();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
}

main().catch((e: Error) => {
  log('error', 'transfers failed to start', { err: e.message });
  process.exit(1);
});
