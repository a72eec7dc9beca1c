/**
 * A drain run every `intervalMs`, never two at once: the log collectors'
 * polling. `stop()` ends the loop, waits for the drain in flight and drains
 * once more, so everything that arrived before it resolves is shipped.
 */
export class PollLoop {
  private timer: NodeJS.Timeout | undefined;
  private inflight: Promise<void> | undefined;
  private running = false;
  /** The last drain queued: drains run one after another, never two reading the same range at once. */
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly drain: () => Promise<unknown>,
    private readonly intervalMs: number,
    private readonly onError?: (e: unknown) => void,
  ) {}

  /** One drain now, after any drain in flight (the loop's, or another caller's); resolves to its result. */
  now<T>(): Promise<T> {
    const r = this.chain.then(() => this.drain());
    this.chain = r.catch(() => undefined);
    return r as Promise<T>;
  }

  start(): void {
    this.running = true;
    const loop = () => {
      if (!this.running) return;
      if (!this.inflight)
        this.inflight = this.now()
          .then(
            () => undefined,
            (e: unknown) => this.onError?.(e),
          )
          .finally(() => {
            this.inflight = undefined;
          });
      this.timer = setTimeout(loop, this.intervalMs);
    };
    loop();
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    await this.inflight;
    await this.now().catch((e: unknown) => this.onError?.(e));
  }
}
