/**
 * A named proxy: a listener, its open connections, and its toxic chains
 * (one per direction). Mirrors Toxiproxy's Proxy + ToxicCollection: state
 * changes here are applied to the live links of every open connection.
 */
import { lookup } from 'node:dns/promises';
import net, { type Server, type Socket } from 'node:net';
import { Link, type TDirection, type TToxicDef } from './link.js';

/** An error whose text is Toxiproxy's own (answered with status 500 unless `status` says otherwise). */
export class ProxyApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

export const ERR = {
  proxyNotFound: () => new ProxyApiError('proxy not found', 404),
  proxyExists: () => new ProxyApiError('proxy already exists', 409),
  invalidStream: () => new ProxyApiError('stream was invalid, can be either upstream or downstream', 400),
  invalidToxicType: () => new ProxyApiError('invalid toxic type', 400),
  toxicExists: () => new ProxyApiError('toxic already exists', 409),
  toxicNotFound: () => new ProxyApiError('toxic not found', 404),
  badBody: (msg: string) => new ProxyApiError(`bad request body: ${msg}`, 400),
  missingField: (what: string) => new ProxyApiError(`missing required field: ${what}`, 400),
};

/** Split `host:port` like Go's net.SplitHostPort (IPv6 in brackets). */
export function splitHostPort(addr: string): { host: string; port: string } | null {
  if (addr.startsWith('[')) {
    const end = addr.indexOf(']');
    if (end < 0 || addr[end + 1] !== ':') return null;
    return { host: addr.slice(1, end), port: addr.slice(end + 2) };
  }
  const i = addr.lastIndexOf(':');
  if (i < 0 || addr.indexOf(':') !== i) return null;
  return { host: addr.slice(0, i), port: addr.slice(i + 1) };
}

function joinHostPort(host: string, port: number | string): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

const ANY = new Set(['', '0.0.0.0', '::']);

/** Resolve a listen address to the host Node binds and the text Go would print for it. */
async function resolveListen(addr: string): Promise<{ host: string; port: number; shown: (port: number) => string }> {
  const hp = splitHostPort(addr);
  if (!hp) throw new ProxyApiError(`listen tcp: address ${addr}: missing port in address`, 500);
  const port = hp.port === '' ? 0 : Number(hp.port);
  if (!/^\d*$/.test(hp.port) || port > 65535) throw new ProxyApiError(`listen tcp: address ${hp.port}: invalid port`, 500);
  // Go listens dual-stack on an unspecified address and reports it as [::]
  if (ANY.has(hp.host)) return { host: '::', port, shown: (p) => `[::]:${p}` };
  let host = hp.host;
  if (host === 'localhost') host = '127.0.0.1';
  else if (net.isIP(host) === 0) {
    try {
      host = (await lookup(host, { family: 4 }).catch(() => lookup(host))).address;
    } catch {
      throw new ProxyApiError(`listen tcp: lookup ${hp.host}: no such host`, 500);
    }
  }
  return { host, port, shown: (p) => joinHostPort(host, p) };
}

/** `net.ResolveTCPAddr(listen).String()` for /populate's "same proxy?" check. */
export function resolvedListenText(addr: string): string {
  const hp = splitHostPort(addr);
  if (!hp) return addr;
  const host = hp.host === 'localhost' ? '127.0.0.1' : hp.host;
  return host === '' ? `:${hp.port || 0}` : joinHostPort(host, hp.port || 0);
}

/**
 * Socket buffer high-water mark. Node's default (16 KiB) is smaller than one
 * 64 KiB read, so a plain pipe pauses and resumes the source on every chunk;
 * 1 MiB lets a bulk transfer stream (measured in bench/proxy).
 */
const SOCKET_HIGH_WATER = 1 << 20;

/** Read buffer sizes of upstream sockets (see accept). */
const READ_MIN = 64 * 1024;
const READ_MAX = 1024 * 1024;

const BIND_ERRORS: Record<string, string> = {
  EADDRINUSE: 'bind: address already in use',
  EADDRNOTAVAIL: 'bind: cannot assign requested address',
  EACCES: 'bind: permission denied',
};

/** Bytes a proxy received from the source and sent to the destination, per direction. */
export interface TByteTotals {
  upstreamReceived: number;
  upstreamSent: number;
  downstreamReceived: number;
  downstreamSent: number;
}

export function addTotals(a: TByteTotals, b: TByteTotals): TByteTotals {
  return {
    upstreamReceived: a.upstreamReceived + b.upstreamReceived,
    upstreamSent: a.upstreamSent + b.upstreamSent,
    downstreamReceived: a.downstreamReceived + b.downstreamReceived,
    downstreamSent: a.downstreamSent + b.downstreamSent,
  };
}

export const ZERO_TOTALS: TByteTotals = { upstreamReceived: 0, upstreamSent: 0, downstreamReceived: 0, downstreamSent: 0 };

/** One accepted client and its upstream connection. */
class Connection {
  readonly up: Link;
  readonly down: Link;
  private done = false;

  constructor(
    readonly client: Socket,
    readonly upstream: Socket,
    private readonly proxy: FaultProxyEntry,
  ) {
    const owner = {
      random: () => proxy.random(),
      reset: () => this.reset(),
      closeAfterFlush: (dst: Socket) => {
        if (dst.writableFinished) this.destroy();
        else dst.once('finish', () => this.destroy());
      },
    };
    this.up = new Link(client, upstream, owner);
    this.down = new Link(upstream, client, owner, true);
    // Any error on either side ends the connection (Toxiproxy closes the other side of a failed copy).
    const onError = (): void => this.destroy();
    client.on('error', onError);
    upstream.on('error', onError);
    // A clean close means that socket finished both ways; the other one finishes on its own
    // (its pending writes still flush). A close after an error takes the other down too.
    const onClose = (hadError: boolean): void => {
      if (hadError) this.destroy();
      else if (client.destroyed && upstream.destroyed) this.forget();
    };
    client.on('close', onClose);
    upstream.on('close', onClose);
  }

  /** Bytes moved so far, from the sockets' own counters (no per-chunk bookkeeping on the fast path). */
  bytes(): TByteTotals {
    return {
      upstreamReceived: this.client.bytesRead,
      upstreamSent: this.upstream.bytesWritten,
      downstreamReceived: this.upstream.bytesRead,
      downstreamSent: this.client.bytesWritten,
    };
  }

  link(d: TDirection): Link {
    return d === 'upstream' ? this.up : this.down;
  }

  start(): void {
    this.up.start(this.proxy.chain('upstream'));
    this.down.start(this.proxy.chain('downstream'));
    this.client.resume();
  }

  private forget(): void {
    if (this.done) return;
    this.done = true;
    this.proxy.retireBytes(this.bytes());
    this.up.dispose();
    this.down.dispose();
    this.proxy.connections.delete(this);
  }

  destroy(): void {
    this.client.destroy();
    this.upstream.destroy();
    this.forget();
  }

  reset(): void {
    for (const s of [this.client, this.upstream]) {
      if (!s.destroyed) s.resetAndDestroy();
    }
    this.forget();
  }
}

/** One proxy of the collection (Toxiproxy's `Proxy`). */
export class FaultProxyEntry {
  name: string;
  listen: string;
  upstream: string;
  enabled = false;
  readonly connections = new Set<Connection>();
  private server: Server | null = null;
  private readonly chains: Record<TDirection, TToxicDef[]> = { upstream: [], downstream: [] };

  constructor(
    name: string,
    listen: string,
    upstream: string,
    readonly random: () => number,
  ) {
    this.name = name;
    this.listen = listen;
    this.upstream = upstream;
  }

  private retired: TByteTotals = ZERO_TOTALS;

  retireBytes(t: TByteTotals): void {
    this.retired = addTotals(this.retired, t);
  }

  /** Bytes moved through this proxy since it was created (closed and open connections). */
  byteTotals(): TByteTotals {
    let t = this.retired;
    for (const c of this.connections) t = addTotals(t, c.bytes());
    return t;
  }

  chain(d: TDirection): readonly TToxicDef[] {
    return this.chains[d];
  }

  /** Upstream chain then downstream chain, each in insertion order (Toxiproxy's GetToxicArray). */
  toxics(): TToxicDef[] {
    return [...this.chains.upstream, ...this.chains.downstream];
  }

  findToxic(name: string): TToxicDef | undefined {
    return this.chains.upstream.find((t) => t.name === name) ?? this.chains.downstream.find((t) => t.name === name);
  }

  addToxic(def: TToxicDef): void {
    this.chains[def.direction].push(def);
    for (const c of this.connections) c.link(def.direction).addToxic(def);
  }

  updateToxic(def: TToxicDef): void {
    const chain = this.chains[def.direction];
    const i = chain.findIndex((t) => t.name === def.name);
    if (i < 0) return;
    chain[i] = def;
    for (const c of this.connections) c.link(def.direction).updateToxic(def);
  }

  removeToxic(name: string): boolean {
    const def = this.findToxic(name);
    if (!def) return false;
    const chain = this.chains[def.direction];
    chain.splice(chain.indexOf(def), 1);
    for (const c of this.connections) c.link(def.direction).removeToxic(name);
    return true;
  }

  resetToxics(): void {
    for (const d of ['upstream', 'downstream'] as const) {
      while (this.chains[d].length > 0) this.removeToxic(this.chains[d][0].name);
    }
  }

  /** Start listening (Toxiproxy's start: ErrProxyAlreadyStarted when enabled). */
  async start(): Promise<void> {
    if (this.enabled) throw new ProxyApiError('Proxy already started', 500);
    const addr = await resolveListen(this.listen);
    const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true, noDelay: true, highWaterMark: SOCKET_HIGH_WATER }, (client) =>
      this.accept(client),
    );
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e: NodeJS.ErrnoException) => {
        const why = BIND_ERRORS[e.code ?? ''] ?? e.message;
        reject(new ProxyApiError(`listen tcp ${addr.shown(addr.port)}: ${why}`, 500));
      });
      server.listen({ host: addr.host, port: addr.port, ipv6Only: false }, () => resolve());
    });
    server.on('error', () => undefined);
    const bound = server.address() as net.AddressInfo;
    this.server = server;
    this.listen = addr.shown(bound.port);
    this.enabled = true;
  }

  /** Stop listening and close every connection (Toxiproxy's stop; no-op when disabled). */
  async stop(): Promise<void> {
    if (!this.enabled) return;
    this.enabled = false;
    const server = this.server;
    this.server = null;
    const closed = server ? new Promise<void>((r) => server.close(() => r())) : Promise.resolve();
    for (const c of [...this.connections]) c.destroy();
    await closed;
  }

  /** Apply `{listen, upstream, enabled}` (Toxiproxy's Proxy.Update). */
  async update(input: { listen: string; upstream: string; enabled: boolean }): Promise<void> {
    if (input.listen !== this.listen || input.upstream !== this.upstream) {
      await this.stop();
      this.listen = input.listen;
      this.upstream = input.upstream;
    }
    if (input.enabled !== this.enabled) {
      if (input.enabled) await this.start();
      else await this.stop();
    }
  }

  private accept(client: Socket): void {
    const hp = splitHostPort(this.upstream);
    let upstream: Socket;
    let conn: Connection | null = null;
    // Read buffers follow the traffic: doubled while reads fill them (bulk), halved when mostly empty (request/response).
    let size = READ_MIN;
    const early: Buffer[] = [];
    const onread = {
      buffer: () => Buffer.allocUnsafeSlow(size),
      callback: (n: number, buf: Buffer): boolean => {
        if (n === buf.length && size < READ_MAX) size *= 2;
        else if (n * 4 < buf.length && size > READ_MIN) size /= 2;
        // reads start after 'connect', where the connection is built; keep anything earlier all the same
        if (conn) conn.down.chunk(buf.subarray(0, n));
        else early.push(buf.subarray(0, n));
        return true;
      },
    };
    try {
      if (!hp) throw new Error('bad upstream');
      upstream = net.connect({
        onread,
        host: hp.host || '127.0.0.1',
        port: Number(hp.port),
        allowHalfOpen: true,
        noDelay: true,
        readableHighWaterMark: SOCKET_HIGH_WATER,
        writableHighWaterMark: SOCKET_HIGH_WATER,
      } as net.NetConnectOpts); // the Duplex options reach the Socket constructor; @types/node omits them
    } catch {
      client.destroy();
      return;
    }
    client.on('error', () => undefined);
    const fail = (): void => {
      client.destroy();
      upstream.destroy();
    };
    upstream.once('error', fail);
    upstream.once('connect', () => {
      upstream.off('error', fail);
      if (!this.enabled || client.destroyed) {
        fail();
        return;
      }
      const c = new Connection(client, upstream, this);
      conn = c;
      this.connections.add(c);
      c.start();
      for (const b of early.splice(0)) c.down.chunk(b);
    });
  }
}
