/**
 * The toxic contract (STYLE.md: a small interface plus a registry, after
 * Toxiproxy's `Toxic` with its one `Pipe` method).
 *
 * A toxic module is configuration: its type name, its attributes with
 * defaults, and `create`, which builds the per-link, per-direction pipe that
 * holds the state. The link feeds a pipe chunks and EOF and gives it an
 * `io` to pass things on; a pipe never touches a socket.
 */

/** A piece of the byte stream, stamped with when it reached this stage (ms, `performance.now()`). */
export interface TChunk {
  data: Buffer;
  t: number;
}

/** What a pipe holds between stages: a chunk, or `null` for EOF. */
export type TItem = TChunk | null;

/** What a pipe may do: the next stage and the connection seen from one toxic. */
export interface TStageIO {
  /** Pass a chunk to the next stage. */
  emit(c: TChunk): void;
  /** Pass EOF on (the input ended). */
  end(): void;
  /** The toxic ends the stream itself (Toxiproxy's `stub.Close()`): EOF on, then the whole connection closes. */
  close(): void;
  /** Abort the connection with a TCP RST on both sockets. */
  reset(): void;
  /** Monotonic clock in ms. */
  now(): number;
  /** Uniform in [0, 1) from the proxy's (optionally seeded) generator. */
  random(): number;
}

/** A running toxic on one link direction. */
export interface TToxicPipe {
  /** A chunk from the previous stage. */
  write(c: TChunk): void;
  /** EOF from the previous stage. */
  end(): void;
  /**
   * Interrupt (the toxic is updated, removed, or a neighbour changed): cancel
   * timers and hand back, in order, what was received and not yet passed on
   * (`null` for a pending EOF), so a replacement can carry on without losing bytes.
   */
  stop(): TItem[];
  /** Bytes held inside, for backpressure on the source socket. */
  held(): number;
}

/** Attribute values: all integers, as Toxiproxy's Go structs declare them. */
export type TAttrs = Record<string, number>;

export interface TToxicModule<A extends TAttrs = TAttrs> {
  /** The `type` in the API (`latency`). */
  type: string;
  /** The Go struct name, for decode errors (`LatencyToxic`). */
  goStruct: string;
  /** Go type of every attribute (`int64`, or `int` for slicer). */
  goInt: 'int64' | 'int';
  /** Attribute defaults; key order is the JSON order of the API. */
  attributes: A;
  /** State per link direction that survives restarts of the pipe (limit_data's byte count). */
  newState?: () => unknown;
  /** Removing the toxic closes every link it was on, even where its toxicity roll failed (timeout). */
  closeLinksOnRemove?: boolean;
  /** Build the pipe for one link direction. */
  create(attrs: A, io: TStageIO, state: unknown): TToxicPipe;
}

/** A FIFO of items with a running byte count, shared by the pipes that hold data. */
export class ItemQueue {
  private items: TItem[] = [];
  private head = 0;
  bytes = 0;

  push(it: TItem): void {
    this.items.push(it);
    if (it) this.bytes += it.data.length;
  }

  get length(): number {
    return this.items.length - this.head;
  }

  peek(): TItem | undefined {
    return this.items[this.head];
  }

  shift(): TItem | undefined {
    if (this.head >= this.items.length) return undefined;
    const it = this.items[this.head];
    this.items[this.head++] = null;
    if (it) this.bytes -= it.data.length;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return it;
  }

  drain(): TItem[] {
    const out = this.items.slice(this.head);
    this.items = [];
    this.head = 0;
    this.bytes = 0;
    return out;
  }
}

/** The pass-through pipe: what a link runs when a toxic's toxicity roll fails. */
export function noopPipe(io: TStageIO): TToxicPipe {
  return {
    write: (c) => io.emit(c),
    end: () => io.end(),
    stop: () => [],
    held: () => 0,
  };
}
