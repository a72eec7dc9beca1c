/**
 * A drain run every `intervalMs`, never two at once: the log collectors'
 * polling. `stop()` ends the loop, waits for the drain in flight and drains
 * once more, so everything that arrived before it resolves is shipped.
 */
export class PollLoop {
  private timer: NodeJS.Timeout | undefined;
  private inflight: Promise<void> | undefined;
  private running = false;

  constructor(
    private readonly drain: () => Promise<unknown>,
    private readonly intervalMs: number,
    private readonly onError?: (e: unknown) => void,
  ) {}

  start(): void {
    this.running = true;
    const loop = () => {
      if (!this.running) return;
      if (!this.inflight)
        this.inflight = this.drain()
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
    await this.drain().catch((e: unknown) => this.onError?.(e));
  }
}
