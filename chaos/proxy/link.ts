/**
 * One proxied TCP connection and its two links.
 *
 * ```
 *  client ──▶ listener ─accept─▶ Connection ─connect─▶ upstream server
 *
 *  per direction (upstream = client→server, downstream = server→client):
 *
 *          no toxic:  src ══════════ src.pipe(dst) ══════════▶ dst
 *                     (downstream: upstream socket's onread → dst.write)
 *
 *        with toxics: src ─data─▶ [toxic 0] ─▶ [toxic 1] ─▶ … ─▶ sink ─write─▶ dst
 *                      ▲  chunks stamped on arrival; EOF = null    │
 *                      └──── paused while dst needs drain or the ──┘
 *                            chain holds more than HIGH_WATER bytes
 * ```
 *
 * The plain `pipe` is the fast path: the proxy sits on every request of the
 * shop, so a link without toxics does no per-chunk work of its own. The
 * first toxic unpipes and routes chunks through the chain; removing the last
 * one pipes again. Adding, updating or removing a toxic on a live link
 * restarts only the affected pipes (and, as in Toxiproxy, the one before
 * them), handing over what they held so no byte is lost or reordered; each
 * (re)start rolls the toxic's toxicity again.
 *
 * A toxic that ends the stream (`timeout`, `limit_data`) closes the whole
 * connection once the sink has flushed; a plain EOF from a socket is passed
 * on as a half-close, so request/response protocols that half-close keep
 * working (Toxiproxy closes both ways there).
 */
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { noopPipe, type TItem, type TStageIO, type TToxicModule, type TToxicPipe } from './toxics/index.js';

/** Link direction: `upstream` carries client→server bytes, `downstream` server→client. */
export type TDirection = 'upstream' | 'downstream';

/** A toxic as configured on a proxy (the definition; per-link state lives in the link). */
export interface TToxicDef {
  name: string;
  type: string;
  /** As sent by the client (case kept); `direction` is the parsed value. */
  stream: string;
  direction: TDirection;
  /** float32 value. */
  toxicity: number;
  attributes: Record<string, number>;
  module: TToxicModule;
}

/** Above this many bytes held by toxics, the source socket is paused. */
const HIGH_WATER = 1 << 20;

interface TSlot {
  def: TToxicDef;
  pipe: TToxicPipe;
  state: unknown;
  /** This slot passed EOF on (or closed the stream); nothing more comes out of it. */
  outEnded: boolean;
}

/** Hooks from the connection into one link. */
interface TLinkOwner {
  random(): number;
  /** Abort both sockets with RST. */
  reset(): void;
  /** The stream of this link was closed by a toxic: close the connection after `dst` flushed. */
  closeAfterFlush(dst: Socket): void;
}

export class Link {
  private slots: TSlot[] = [];
  private chained = false;
  private inputEnded = false;
  private sinkEnded = false;
  private paused = false;
  /** A toxic closed the stream: once the sink flushed, the whole connection goes. */
  private closing = false;
  private readonly onData = (data: Buffer): void => {
    this.feed(0, { data, t: performance.now() });
    this.checkFlow();
  };
  private readonly onEnd = (): void => {
    this.inputEnded = true;
    this.feed(0, null);
  };
  private readonly onDrain = (): void => this.checkFlow();
  /** onread fast path: the source is paused until the destination drains. */
  private drainWait = false;

  /**
   * @param onread the source socket was created with Node's `onread` option
   * (the upstream socket, which the proxy dials itself: reads land in
   * buffers sized to the traffic instead of 64 KiB pieces, ~35 % less CPU per
   * byte in bench/proxy) and delivers its reads to {@link chunk}; otherwise
   * the source is a plain stream, piped or read through 'data' events.
   */
  constructor(
    private readonly src: Socket,
    private readonly dst: Socket,
    private readonly owner: TLinkOwner,
    private readonly onread = false,
  ) {
    if (onread) src.on('end', this.onEnd);
  }

  /** Begin moving bytes with the proxy's current chain for this direction. */
  start(defs: readonly TToxicDef[]): void {
    if (defs.length === 0) {
      if (!this.onread) this.src.pipe(this.dst);
      return;
    }
    this.enterChain();
    for (const def of defs) this.slots.push(this.makeSlot(def, def.module.newState?.()));
  }

  /** A read from an `onread` source: written straight through when there is no toxic. */
  chunk(data: Buffer): void {
    if (this.chained) {
      this.onData(data);
      return;
    }
    if (this.sinkEnded) return;
    if (!this.dst.write(data) && !this.drainWait) {
      this.drainWait = true;
      this.src.pause();
      this.dst.once('drain', () => {
        this.drainWait = false;
        if (this.chained) this.checkFlow();
        else this.src.resume();
      });
    }
  }

  /** A toxic was appended to this direction's chain. */
  addToxic(def: TToxicDef): void {
    // a piped link whose source already ended has ended its destination too: nothing left to poison
    if (this.sinkEnded || (!this.chained && this.src.readableEnded)) return;
    if (!this.chained) this.enterChain();
    const prev = this.slots[this.slots.length - 1];
    this.slots.push(this.makeSlot(def, def.module.newState?.()));
    if (prev) this.restart(prev, prev.def);
    this.checkFlow();
  }

  /** A toxic's attributes or toxicity changed. */
  updateToxic(def: TToxicDef): void {
    const slot = this.slots.find((s) => s.def.name === def.name);
    if (slot) this.restart(slot, def);
    this.checkFlow();
  }

  /** A toxic was removed from this direction's chain. */
  removeToxic(name: string): void {
    const i = this.slots.findIndex((s) => s.def.name === name);
    if (i < 0) return;
    const slot = this.slots[i];
    const pending = slot.outEnded ? [] : slot.pipe.stop();
    this.slots.splice(i, 1);
    for (const it of pending) this.feed(i, it);
    if (slot.def.module.closeLinksOnRemove && !slot.outEnded) {
      // Toxiproxy's Cleanup closes the stub's output: EOF from here on, then the connection closes.
      slot.outEnded = true;
      this.endFrom(i, true);
    }
    const prev = this.slots[i - 1];
    if (prev) this.restart(prev, prev.def);
    if (this.slots.length === 0) this.leaveChain();
    this.checkFlow();
  }

  /** Stop all timers (the connection is going away). */
  dispose(): void {
    for (const s of this.slots) if (!s.outEnded) s.pipe.stop();
    this.slots = [];
  }

  private enterChain(): void {
    this.chained = true;
    this.dst.on('drain', this.onDrain);
    if (this.onread) return;
    this.src.unpipe(this.dst);
    this.src.on('data', this.onData);
    this.src.on('end', this.onEnd);
    // unpipe may leave the source paused; the chain reads it in flowing mode
    if (!this.paused) this.src.resume();
  }

  /** Back to the plain pipe once the chain is empty. */
  private leaveChain(): void {
    if (!this.chained) return;
    this.chained = false;
    this.dst.off('drain', this.onDrain);
    if (!this.onread) {
      this.src.off('data', this.onData);
      this.src.off('end', this.onEnd);
    }
    const wasPaused = this.paused;
    this.paused = false;
    if (this.sinkEnded) return;
    if (this.inputEnded) {
      this.sinkEnded = true;
      this.dst.end();
      return;
    }
    if (!this.onread) this.src.pipe(this.dst);
    else if (wasPaused && !this.drainWait) this.src.resume();
  }

  private makeSlot(def: TToxicDef, state: unknown): TSlot {
    const slot: TSlot = { def, pipe: undefined as unknown as TToxicPipe, state, outEnded: false };
    slot.pipe = this.createPipe(slot, def);
    return slot;
  }

  private createPipe(slot: TSlot, def: TToxicDef): TToxicPipe {
    const io: TStageIO = {
      emit: (c) => {
        if (slot.outEnded || slot.pipe !== pipeRef.p) return;
        const i = this.slots.indexOf(slot);
        if (i >= 0) this.feed(i + 1, c);
      },
      end: () => this.slotEnded(slot, pipeRef, false),
      close: () => this.slotEnded(slot, pipeRef, true),
      reset: () => this.owner.reset(),
      now: () => performance.now(),
      random: () => this.owner.random(),
    };
    const pipeRef: { p: TToxicPipe | null } = { p: null };
    // Toxiproxy: `rand.Float32() < toxicity` each time the toxic starts on a link.
    const pipe = this.owner.random() < def.toxicity ? def.module.create(def.attributes, io, slot.state) : noopPipe(io);
    pipeRef.p = pipe;
    return pipe;
  }

  private slotEnded(slot: TSlot, ref: { p: TToxicPipe | null }, close: boolean): void {
    if (slot.outEnded || slot.pipe !== ref.p) return;
    const i = this.slots.indexOf(slot);
    if (i < 0) return;
    slot.outEnded = true;
    this.endFrom(i + 1, close);
  }

  /** Pass EOF into position `i` of the chain (the sink when past the end). */
  private endFrom(i: number, close: boolean): void {
    if (close) this.closing = true;
    this.feed(i, null);
  }

  private restart(slot: TSlot, def: TToxicDef): void {
    if (slot.outEnded) {
      slot.def = def;
      return;
    }
    const pending = slot.pipe.stop();
    slot.def = def;
    slot.pipe = this.createPipe(slot, def);
    for (const it of pending) {
      if (it === null) slot.pipe.end();
      else slot.pipe.write(it);
    }
  }

  /** Deliver an item to chain position `i`, or to the destination socket past the end. */
  private feed(i: number, it: TItem): void {
    const slot = this.slots[i];
    if (slot) {
      if (it === null) slot.pipe.end();
      else slot.pipe.write(it);
      return;
    }
    if (this.sinkEnded) return;
    if (it === null) {
      this.sinkEnded = true;
      this.dst.end();
      if (this.closing) this.owner.closeAfterFlush(this.dst);
      return;
    }
    if (it.data.length > 0) this.dst.write(it.data);
    this.checkFlow();
  }

  private held(): number {
    let n = 0;
    for (const s of this.slots) n += s.pipe.held();
    return n;
  }

  /** Pause the source while the destination or the chain is full; resume when both have room. */
  private checkFlow(): void {
    if (!this.chained) return;
    const full = this.dst.writableNeedDrain || this.held() > HIGH_WATER;
    if (full && !this.paused) {
      this.paused = true;
      this.src.pause();
    } else if (!full && this.paused) {
      this.paused = false;
      this.src.resume();
    }
  }
}
