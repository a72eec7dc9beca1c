/**
 * The one client of the supervisor's admin API (docs/architecture.md
 * "Supervisor admin API"), next to its server as Toxiproxy ships `client/`
 * beside its own. The fault catalog (instances, edges, HTTP faults), the
 * collectors (instances to scrape, log stream, run context) and the console
 * (topology) all use it; every answer is checked against the schemas here.
 *
 * Errors are `SupervisorCallError` with a `code` from the platform's error
 * catalogue (UNAVAILABLE, TIMEOUT, NOT_FOUND, CONFLICT, VALIDATION): the shop
 * imports nothing of the platform, and core's `toAppError` keeps the code.
 */
import { z } from 'zod';

export const InstanceStateSchema = z.enum(['running', 'paused', 'stopped', 'crashed', 'starting']);
export type TInstanceState = z.infer<typeof InstanceStateSchema>;

export const InstanceSchema = z.object({
  id: z.string(),
  service: z.string(),
  index: z.number(),
  pid: z.number().nullable(),
  port: z.number(),
  url: z.string(),
  state: InstanceStateSchema,
  restarts: z.number(),
  startedAt: z.string().nullable().optional(),
  /** When a `kill {hold}` ends (ISO time), while held. */
  holdUntil: z.string().optional(),
  /** Exit code or signal of the last exit. */
  lastExit: z.object({ code: z.number().nullable(), signal: z.string().nullable(), at: z.string() }).optional(),
});
export type TInstance = z.infer<typeof InstanceSchema>;

export const EdgeSchema = z.object({
  name: z.string(),
  from: z.string(),
  to: z.string(),
  kind: z.enum(['service', 'postgres', 'redis']),
  proxies: z.array(z.object({ name: z.string(), listen: z.string(), upstream: z.string(), instance: z.string().optional() })),
});
export type TEdge = z.infer<typeof EdgeSchema>;

/** The body of POST /http-faults (validated again, with defaults, by the server: shop/lib/faults.ts). */
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
export type THttpFaultRow = THttpFaultBody & { id: string };

const HttpFaultRowSchema = z
  .object({ id: z.string(), service: z.string(), kind: z.enum(['abort', 'delay']), percentage: z.number() })
  .passthrough() as unknown as z.ZodType<THttpFaultRow>;

export const SupervisorLogLineSchema = z.object({ cursor: z.number(), instance: z.string(), service: z.string(), line: z.string() });
export type TSupervisorLogLine = z.infer<typeof SupervisorLogLineSchema>;
export const LogPageSchema = z.object({ lines: z.array(SupervisorLogLineSchema), next: z.number() });
export type TLogPage = z.infer<typeof LogPageSchema>;

export type TSupervisorErrorCode = 'UNAVAILABLE' | 'TIMEOUT' | 'NOT_FOUND' | 'CONFLICT' | 'VALIDATION';

export class SupervisorCallError extends Error {
  constructor(
    readonly code: TSupervisorErrorCode,
    message: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'SupervisorCallError';
  }
}

export interface TSupervisorClientOptions {
  /** SUPERVISOR_URL. */
  url: string;
  /**
   * Per-request timeout.
   * @defaultValue 5000
   */
  timeoutMs?: number;
}

const STATUS_CODES: Record<number, TSupervisorErrorCode> = { 400: 'VALIDATION', 404: 'NOT_FOUND', 409: 'CONFLICT' };

export class SupervisorClient {
  readonly url: string;
  private readonly timeoutMs: number;

  constructor(opts: TSupervisorClientOptions) {
    this.url = opts.url.replace(/\/+$/, '');
    this.timeoutMs = opts.timeoutMs ?? 5000;
  }

  private async send(method: string, path: string, body?: unknown): Promise<unknown> {
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
      const why = timedOut
        ? `did not answer ${method} ${path} within ${this.timeoutMs} ms`
        : `is unreachable (${method} ${path}); is the shop running? (\`faultline shop up\` or \`faultline up\`; SUPERVISOR_URL points elsewhere)`;
      throw new SupervisorCallError(timedOut ? 'TIMEOUT' : 'UNAVAILABLE', `shop supervisor at ${this.url} ${why}`, undefined, { cause: e });
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
      const err = (data as { error?: { message?: string } | string } | undefined)?.error;
      const msg = typeof err === 'string' ? err : (err?.message ?? (typeof data === 'string' ? data.slice(0, 200) : ''));
      throw new SupervisorCallError(
        STATUS_CODES[res.status] ?? 'UNAVAILABLE',
        `shop supervisor refused ${method} ${path} (HTTP ${res.status})${msg ? `: ${msg}` : ''}`,
        res.status,
      );
    }
    return data;
  }

  private async call<T>(method: string, path: string, schema: z.ZodType<T>, body?: unknown): Promise<T> {
    const data = await this.send(method, path, body);
    const r = schema.safeParse(data);
    if (!r.success) {
      const i = r.error.issues[0];
      throw new SupervisorCallError(
        'UNAVAILABLE',
        `shop supervisor ${method} ${path}: unexpected answer (${i ? `${i.path.join('.')}: ${i.message}` : 'invalid'})`,
      );
    }
    return r.data;
  }

  instances(): Promise<TInstance[]> {
    return this.call('GET', '/instances', z.array(InstanceSchema));
  }
  edges(): Promise<TEdge[]> {
    return this.call('GET', '/edges', z.array(EdgeSchema));
  }
  kill(id: string, holdMs?: number): Promise<unknown> {
    return this.send('POST', `/instances/${encodeURIComponent(id)}/kill`, holdMs === undefined ? {} : { hold: holdMs });
  }
  pause(id: string): Promise<unknown> {
    return this.send('POST', `/instances/${encodeURIComponent(id)}/pause`, {});
  }
  resume(id: string): Promise<unknown> {
    return this.send('POST', `/instances/${encodeURIComponent(id)}/resume`, {});
  }
  restart(id: string): Promise<unknown> {
    return this.send('POST', `/instances/${encodeURIComponent(id)}/restart`, {});
  }
  start(id: string): Promise<unknown> {
    return this.send('POST', `/instances/${encodeURIComponent(id)}/start`, {});
  }
  httpFaults(): Promise<THttpFaultRow[]> {
    return this.call('GET', '/http-faults', z.array(HttpFaultRowSchema));
  }
  addHttpFault(body: THttpFaultBody): Promise<{ id: string }> {
    return this.call('POST', '/http-faults', z.object({ id: z.string() }).passthrough(), body);
  }
  /** Remove one HTTP fault; `false` when it was already gone. */
  async removeHttpFault(id: string): Promise<boolean> {
    try {
      await this.send('DELETE', `/http-faults/${encodeURIComponent(id)}`);
      return true;
    } catch (e) {
      if (e instanceof SupervisorCallError && e.code === 'NOT_FOUND') return false;
      throw e;
    }
  }
  removeAllHttpFaults(): Promise<unknown> {
    return this.send('DELETE', '/http-faults');
  }
  /** The instances' log lines after `after` (a cursor), in order. */
  logs(after: number, limit = 2000): Promise<TLogPage> {
    return this.call('GET', `/logs?after=${after}&limit=${limit}`, LogPageSchema);
  }
  /** Instances tag their log lines with this run id (null clears it). */
  async setContext(runId: string | null): Promise<void> {
    await this.send('PUT', '/context', { runId });
  }
  async health(): Promise<boolean> {
    try {
      await this.send('GET', '/health');
      return true;
    } catch {
      return false;
    }
  }
}
