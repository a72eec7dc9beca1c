/**
 * Client of the shop supervisor's admin API (docs/architecture.md
 * "Supervisor admin API"): instances, edges and HTTP faults.
 */
import { AppError } from '../../core/errors.js';

export type TInstanceState = 'running' | 'paused' | 'stopped' | 'crashed' | 'starting';

export interface TInstance {
  id: string;
  service: string;
  index: number;
  pid: number | null;
  port: number;
  url: string;
  state: TInstanceState;
  restarts: number;
  startedAt?: string | null;
}

export interface TEdge {
  name: string;
  from: string;
  to: string;
  kind: 'service' | 'postgres' | 'redis';
  proxies: { name: string; listen: string; upstream: string; instance?: string }[];
}

export interface THttpFaultBody {
  service: string;
  route?: string;
  method?: string;
  kind: 'abort' | 'delay';
  status?: number;
  delayMs?: number;
  percentage: number;
  /** When a delay happens (shop/lib/faults.ts). */
  at?: 'request' | 'response';
}

export type THttpFault = THttpFaultBody & { id: string };

export class SupervisorApi {
  readonly url: string;
  private readonly timeoutMs: number;

  constructor(url: string, timeoutMs = 5000) {
    this.url = url.replace(/\/+$/, '');
    this.timeoutMs = timeoutMs;
  }

  private async req<T>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${this.url}${path}`, {
        method,
        headers: body === undefined ? undefined : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (e) {
      const timedOut = e instanceof Error && (e.name === 'TimeoutError' || e.name === 'AbortError');
      throw new AppError(timedOut ? 'TIMEOUT' : 'UNAVAILABLE', `shop supervisor at ${this.url} ${timedOut ? `did not answer ${method} ${path} within ${this.timeoutMs} ms` : `is unreachable (${method} ${path}); is the shop running? (\`faultline shop up\` or \`faultline up\`; SUPERVISOR_URL points elsewhere)`}`, { cause: e });
    }
    const text = await res.text();
    let data: unknown = undefined;
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        data = text;
      }
    }
    if (!res.ok) {
      const err = (data as { error?: { code?: string; message?: string } | string } | undefined)?.error;
      const msg = typeof err === 'string' ? err : err?.message ?? (typeof data === 'string' ? data : '');
      const code = res.status === 404 ? 'NOT_FOUND' : res.status === 409 ? 'CONFLICT' : res.status === 400 ? 'VALIDATION' : 'UNAVAILABLE';
      throw new AppError(code, `shop supervisor refused ${method} ${path} (HTTP ${res.status})${msg ? `: ${msg}` : ''}`, {
        details: { status: res.status },
      });
    }
    return data as T;
  }

  instances(): Promise<TInstance[]> {
    return this.req('GET', '/instances');
  }
  edges(): Promise<TEdge[]> {
    return this.req('GET', '/edges');
  }
  kill(id: string, holdMs?: number): Promise<unknown> {
    return this.req('POST', `/instances/${encodeURIComponent(id)}/kill`, holdMs === undefined ? {} : { hold: holdMs });
  }
  pause(id: string): Promise<unknown> {
    return this.req('POST', `/instances/${encodeURIComponent(id)}/pause`, {});
  }
  resume(id: string): Promise<unknown> {
    return this.req('POST', `/instances/${encodeURIComponent(id)}/resume`, {});
  }
  restart(id: string): Promise<unknown> {
    return this.req('POST', `/instances/${encodeURIComponent(id)}/restart`, {});
  }
  start(id: string): Promise<unknown> {
    return this.req('POST', `/instances/${encodeURIComponent(id)}/start`, {});
  }
  httpFaults(): Promise<THttpFault[]> {
    return this.req('GET', '/http-faults');
  }
  addHttpFault(body: THttpFaultBody): Promise<{ id: string }> {
    return this.req('POST', '/http-faults', body);
  }
  /** Remove one HTTP fault; `false` when it was already gone. */
  async removeHttpFault(id: string): Promise<boolean> {
    try {
      await this.req('DELETE', `/http-faults/${encodeURIComponent(id)}`);
      return true;
    } catch (e) {
      if (e instanceof AppError && e.code === 'NOT_FOUND') return false;
      throw e;
    }
  }
  removeAllHttpFaults(): Promise<unknown> {
    return this.req('DELETE', '/http-faults');
  }
}
