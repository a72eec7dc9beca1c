/**
 * The Toxiproxy API as the fault catalog uses it, through
 * toxiproxy-node-client only, so pointing TOXIPROXY_URL at a real
 * toxiproxy-server changes nothing else.
 *
 * Two client quirks are handled here (reference/toxiproxy-api.md §3.4):
 * - names are not URL-encoded by the client, and edge names contain `>` and
 *   `#` (`orders->payments#1`: the `#` would start a URL fragment), so proxy
 *   handles are built with the encoded name;
 * - errors lose their status except in the message ("Request failed with
 *   status code 404"), so the status is recovered from it.
 */
import { Proxy, Toxic, Toxiproxy, type ICreateToxicBody } from 'toxiproxy-node-client';
import { AppError } from '../../core/errors.js';

export interface TProxyInfo {
  name: string;
  listen: string;
  upstream: string;
  enabled: boolean;
  toxics: { name: string; type: string; stream: string; toxicity: number; attributes: Record<string, number> }[];
}

export type TToxicType = 'latency' | 'bandwidth' | 'slow_close' | 'timeout' | 'reset_peer' | 'limit_data';

/** HTTP status hidden in a toxiproxy-node-client error, if any. */
export function clientErrorStatus(e: unknown): number | undefined {
  const m = /status code (\d{3})/.exec(e instanceof Error ? e.message : String(e));
  return m ? Number(m[1]) : undefined;
}

/** The innermost useful reason of a network error: `connect ECONNREFUSED 127.0.0.1:8474` rather than `fetch failed`. */
function reasonOf(e: unknown): string {
  let cur: unknown = e;
  let text = e instanceof Error ? e.message : String(e);
  for (let i = 0; i < 5 && cur instanceof Error && cur.cause !== undefined; i++) {
    cur = cur.cause;
    if (cur instanceof Error && cur.message) text = cur.message;
  }
  return text;
}

async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new AppError('TIMEOUT', `${what}: no answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export class ToxiproxyApi {
  readonly url: string;
  private readonly tp: Toxiproxy;
  private readonly timeoutMs: number;

  constructor(url: string, timeoutMs = 5000) {
    this.url = url.replace(/\/+$/, '');
    this.tp = new Toxiproxy(this.url);
    this.timeoutMs = timeoutMs;
  }

  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await within(fn(), this.timeoutMs, `fault proxy ${this.url} ${what}`);
    } catch (e) {
      if (e instanceof AppError) throw e;
      const status = clientErrorStatus(e);
      if (status === undefined) {
        throw new AppError(
          'UNAVAILABLE',
          `fault proxy at ${this.url} is unreachable (${what}): ${reasonOf(e)}; is it running? (\`faultline proxy\`, \`faultline shop up\` or \`faultline up\` start one; TOXIPROXY_URL points elsewhere)`,
          {
            cause: e,
          },
        );
      }
      const code = status === 404 ? 'NOT_FOUND' : status === 409 ? 'CONFLICT' : status === 400 ? 'VALIDATION' : 'UNAVAILABLE';
      throw new AppError(code, `fault proxy at ${this.url} refused ${what} (HTTP ${status})`, { cause: e, details: { status } });
    }
  }

  private handle(name: string): Proxy {
    return new Proxy(this.tp, { name: encodeURIComponent(name), listen: '', upstream: '', enabled: true, toxics: [] });
  }

  /** Every proxy with its toxics (the client's getAll drops toxics, so its HTTP client is used directly). */
  async list(): Promise<Map<string, TProxyInfo>> {
    const res = await this.call('list proxies', () => this.tp.getApi().get<Record<string, TProxyInfo>>(`${this.url}/proxies`));
    const out = new Map<string, TProxyInfo>();
    for (const [name, p] of Object.entries(res.data ?? {})) out.set(name, { ...p, toxics: p.toxics ?? [] });
    return out;
  }

  async addToxic(
    proxy: string,
    body: { name: string; type: TToxicType; stream: 'upstream' | 'downstream'; toxicity: number; attributes: Record<string, number> },
  ): Promise<void> {
    await this.call(`add toxic ${body.name} to ${proxy}`, () => this.handle(proxy).addToxic(body as ICreateToxicBody<unknown>));
  }

  /** Remove a toxic; `false` when it was already gone. */
  async removeToxic(proxy: string, toxic: string): Promise<boolean> {
    const t = new Toxic(this.tp.getApi(), this.handle(proxy).getPath(), {
      name: encodeURIComponent(toxic),
      type: 'latency',
      stream: 'downstream',
      toxicity: 1,
      attributes: {},
    });
    try {
      await this.call(`remove toxic ${toxic} from ${proxy}`, () => t.remove());
      return true;
    } catch (e) {
      if (e instanceof AppError && e.code === 'NOT_FOUND') return false;
      throw e;
    }
  }

  async setEnabled(proxy: string, enabled: boolean): Promise<void> {
    // Only `enabled` is sent: an absent listen/upstream is left unchanged by
    // the server, whereas echoing them back could restart the listener.
    await this.call(`${enabled ? 'enable' : 'disable'} ${proxy}`, () =>
      this.handle(proxy).update({ enabled } as { enabled: boolean; listen: string; upstream: string }),
    );
  }

  /** Remove every toxic and re-enable every proxy (POST /reset). */
  async reset(): Promise<void> {
    await this.call('reset', () => this.tp.reset());
  }
}
