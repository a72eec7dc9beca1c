/**
 * One Redis subscriber connection per process and platform, shared by every
 * follower that asks for it (`subscribeRun(..., { shared: true })`): a
 * channel is subscribed while at least one listener follows that run, so
 * 200 open run pages in the console are 1 connection, not 200.
 */
import type { TPlatform } from '../platform.js';

class RunHub {
  private readonly listeners = new Map<string, Set<(msg: string) => void>>();
  private readonly sub: ReturnType<TPlatform['newRedis']>;

  constructor(p: TPlatform) {
    this.sub = p.newRedis();
    this.sub.on('error', () => {
      /* ioredis reconnects and resubscribes; browsers resume with Last-Event-ID */
    });
    this.sub.on('message', (ch: string, msg: string) => {
      for (const l of this.listeners.get(ch) ?? []) l(msg);
    });
  }

  /** Resolves once subscribed (so nothing published afterwards is missed); returns the unsubscribe. */
  async listen(channel: string, fn: (msg: string) => void): Promise<() => void> {
    let set = this.listeners.get(channel);
    if (!set) {
      set = new Set();
      this.listeners.set(channel, set);
    }
    set.add(fn);
    await this.sub.subscribe(channel);
    return () => {
      const cur = this.listeners.get(channel);
      if (!cur) return;
      cur.delete(fn);
      if (cur.size === 0) {
        this.listeners.delete(channel);
        void this.sub.unsubscribe(channel).catch(() => undefined);
      }
    };
  }

  close(): void {
    this.listeners.clear();
    this.sub.disconnect();
  }
}

// On globalThis so a hot reload of the console in Next.js dev does not leak connections.
const hubs = globalThis as unknown as { __faultlineRunHubs?: Map<TPlatform, RunHub> };

export function runHub(p: TPlatform): RunHub {
  hubs.__faultlineRunHubs ??= new Map();
  let h = hubs.__faultlineRunHubs.get(p);
  if (!h) {
    h = new RunHub(p);
    hubs.__faultlineRunHubs.set(p, h);
  }
  return h;
}

/** Close this process's shared subscribers (tests, shutdown). */
export function closeRunHub(): void {
  for (const h of hubs.__faultlineRunHubs?.values() ?? []) h.close();
  hubs.__faultlineRunHubs?.clear();
}
