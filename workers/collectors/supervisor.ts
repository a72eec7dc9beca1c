/**
 * Client of the shop supervisor's admin API (docs/architecture.md): the
 * instances to scrape, the log stream, and the run context.
 */
import { z } from 'zod';
import { AppError } from '../../core/errors.js';

export const InstanceSchema = z.object({
  id: z.string(),
  service: z.string(),
  index: z.number().optional(),
  pid: z.number().nullable().optional(),
  port: z.number(),
  url: z.string(),
  state: z.string(),
  restarts: z.number().optional(),
  startedAt: z.union([z.string(), z.number()]).nullable().optional(),
});
export type TInstance = z.infer<typeof InstanceSchema>;

export const SupervisorLogLineSchema = z.object({ cursor: z.number(), instance: z.string(), service: z.string(), line: z.string() });
export type TSupervisorLogLine = z.infer<typeof SupervisorLogLineSchema>;
const LogPageSchema = z.object({ lines: z.array(SupervisorLogLineSchema), next: z.number() });

export interface SupervisorClientOptions {
  /** SUPERVISOR_URL. */
  url: string;
  /**
   * Per-request timeout.
   * @defaultValue 2000
   */
  timeoutMs?: number;
}

export class SupervisorClient {
  readonly url: string;
  private readonly timeoutMs: number;

  constructor(opts: SupervisorClientOptions) {
    this.url = opts.url.replace(/\/+$/, '');
    this.timeoutMs = opts.timeoutMs ?? 2000;
  }

  private async call<T>(method: string, path: string, schema: z.ZodType<T>, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${this.url}${path}`, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (e) {
      throw new AppError('UNAVAILABLE', `supervisor ${this.url} unreachable (${method} ${path}): ${(e as Error).message}`, { cause: e });
    }
    const text = await res.text();
    if (!res.ok) throw new AppError('UNAVAILABLE', `supervisor ${method} ${path} answered ${res.status}: ${text.slice(0, 200)}`);
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      throw new AppError('UNAVAILABLE', `supervisor ${method} ${path} answered non-JSON`);
    }
    const r = schema.safeParse(json);
    if (!r.success) throw new AppError('UNAVAILABLE', `supervisor ${method} ${path}: unexpected answer (${r.error.issues[0]?.message})`);
    return r.data;
  }

  instances(): Promise<TInstance[]> {
    return this.call('GET', '/instances', z.array(InstanceSchema));
  }

  logs(after: number, limit = 2000): Promise<z.infer<typeof LogPageSchema>> {
    return this.call('GET', `/logs?after=${after}&limit=${limit}`, LogPageSchema);
  }

  /** Instances tag their log lines with this run id (null clears it). */
  async setContext(runId: string | null): Promise<void> {
    await this.call('PUT', '/context', z.unknown(), { runId });
  }

  async health(): Promise<boolean> {
    try {
      await this.call('GET', '/health', z.unknown());
      return true;
    } catch {
      return false;
    }
  }
}
