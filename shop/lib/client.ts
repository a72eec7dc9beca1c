/**
 * Outbound calls over one service edge (`orders->payments`), with the
 * resilience policies every call gets:
 *
 *   call ─▶ retry (jittered exponential; idempotent calls only, or calls never sent)
 *            └▶ circuit breaker (one per edge, named by the edge)
 *                 └▶ timeout (cooperative: aborts the undici request)
 *                      └▶ pick a healthy instance (registry, round robin)
 *                           └▶ address via SHOP_EDGES (proxy) or direct ─▶ undici (keep-alive)
 *
 * 5xx answers, timeouts and network errors are failures (breaker, retry);
 * 4xx answers, and 5xx answers marked `x-dependency-failure` (the callee is
 * fine, one of its own dependencies is not), are returned as they are.
 */
import { Agent } from 'undici';
import {
  retry,
  circuitBreaker,
  timeout,
  handleWhen,
  ExponentialBackoff,
  ConsecutiveBreaker,
  CircuitState,
  TimeoutStrategy,
  BrokenCircuitError,
  TaskCancelledError,
  type CircuitBreakerPolicy,
  type RetryPolicy,
} from 'cockatiel';
import type { Logger } from 'pino';
import type { TMetrics } from './metrics.js';
import type { ServiceRegistry, TRegisteredInstance } from './registry.js';
import { resolveServiceAddress, type TEdges } from './edges.js';
import { requestContext } from './request-context.js';

/** Response header a service sets on a 5xx caused by one of its own dependencies. */
export const DEPENDENCY_FAILURE_HEADER = 'x-dependency-failure';

export type TCallFailureKind = 'timeout' | 'network_error' | 'server_error' | 'no_instance' | 'breaker_open' | 'not_sent';

/** A failed outbound call; `sent=false` means the callee certainly did not see it. */
export class CallError extends Error {
  constructor(
    readonly kind: TCallFailureKind,
    readonly edge: string,
    message: string,
    readonly status?: number,
    readonly body?: unknown,
    readonly sent: boolean = true,
  ) {
    super(message);
    this.name = 'CallError';
  }
}

export interface TCallResult<T = unknown> {
  status: number;
  body: T;
  instance: string;
  headers: Record<string, string | string[] | undefined>;
  /**
   * Attempts sent for this call (1 = no retry). An answer after retries is the
   * last attempt's only: earlier ones timed out with unknown outcome.
   */
  attempts: number;
}

export interface TCallRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
  /** Safe to repeat (reads, calls carrying an idempotency key). Enables retries on any failure. @defaultValue false */
  idempotent?: boolean;
  /** Per-attempt timeout. @defaultValue the client's timeoutMs */
  timeoutMs?: number;
}

/** Resilience settings of one edge. */
export interface TEdgePolicyOptions {
  /** Per-attempt timeout in ms. @defaultValue 2000 */
  timeoutMs?: number;
  /** Retries after the first attempt (idempotent calls). @defaultValue 2 */
  retries?: number;
  /** First backoff delay in ms (decorrelated jitter grows from it). @defaultValue 50 */
  backoffInitialMs?: number;
  /** Cap of one backoff delay in ms. @defaultValue 1000 */
  backoffMaxMs?: number;
  /** Consecutive failures that open the breaker. @defaultValue 5 */
  breakerThreshold?: number;
  /** Time the breaker stays open before a half-open probe, ms. @defaultValue 2000 */
  breakerHalfOpenAfterMs?: number;
  /** No circuit breaker at all (the `breaker-disabled` bug switch). @defaultValue false */
  breakerDisabled?: boolean;
}

const STATE_VALUE: Record<CircuitState, number> = {
  [CircuitState.Closed]: 0,
  [CircuitState.Open]: 1,
  [CircuitState.HalfOpen]: 2,
  [CircuitState.Isolated]: 1,
};

function isFailure(e: Error): boolean {
  return e instanceof TaskCancelledError || (e instanceof CallError && e.kind !== 'breaker_open');
}

export class EdgeClient {
  readonly edge: string;
  private readonly breaker: CircuitBreakerPolicy | undefined;
  private readonly retryAll: RetryPolicy;
  private readonly retryUnsent: RetryPolicy;
  private rr = 0;
  /** Instances that refused a connection recently: skipped until the registry catches up. */
  private readonly suspect = new Map<string, number>();
  private readonly opts: Required<TEdgePolicyOptions>;

  constructor(
    private readonly deps: {
      service: string;
      target: string;
      registry: ServiceRegistry;
      edges: TEdges;
      agent: Agent;
      metrics: TMetrics;
      log: Logger;
    },
    opts: TEdgePolicyOptions = {},
  ) {
    this.edge = `${deps.service}->${deps.target}`;
    this.opts = {
      timeoutMs: opts.timeoutMs ?? 2000,
      retries: opts.retries ?? 2,
      backoffInitialMs: opts.backoffInitialMs ?? 50,
      backoffMaxMs: opts.backoffMaxMs ?? 1000,
      breakerThreshold: opts.breakerThreshold ?? 5,
      breakerHalfOpenAfterMs: opts.breakerHalfOpenAfterMs ?? 2000,
      breakerDisabled: opts.breakerDisabled ?? false,
    };
    const backoff = new ExponentialBackoff({ initialDelay: this.opts.backoffInitialMs, maxDelay: this.opts.backoffMaxMs });
    this.retryAll = retry(
      handleWhen((e) => isFailure(e)),
      { maxAttempts: this.opts.retries, backoff },
    );
    // A non-idempotent call is repeated only when it provably never reached the callee.
    this.retryUnsent = retry(
      handleWhen((e) => e instanceof CallError && !e.sent && e.kind !== 'breaker_open'),
      { maxAttempts: this.opts.retries, backoff },
    );
    for (const r of [this.retryAll, this.retryUnsent]) {
      r.onRetry(() => deps.metrics.retries.inc({ service: deps.service, target: deps.target }));
    }
    const labels = { service: deps.service, breaker: this.edge };
    deps.metrics.breakerState.set(labels, 0);
    if (!this.opts.breakerDisabled) {
      const b = circuitBreaker(
        handleWhen((e) => isFailure(e)),
        { halfOpenAfter: this.opts.breakerHalfOpenAfterMs, breaker: new ConsecutiveBreaker(this.opts.breakerThreshold) },
      );
      b.onStateChange((s) => deps.metrics.breakerState.set(labels, STATE_VALUE[s]));
      b.onBreak(() => {
        deps.metrics.breakerEvents.inc({ ...labels, event: 'open' });
        deps.log.warn({ breaker: this.edge, state: 'open', event: 'circuit_breaker_open' }, `circuit breaker ${this.edge} opened`);
      });
      b.onHalfOpen(() => {
        deps.metrics.breakerEvents.inc({ ...labels, event: 'half_open' });
        deps.log.info({ breaker: this.edge, state: 'half_open', event: 'circuit_breaker_half_open' }, `circuit breaker ${this.edge} half-open`);
      });
      b.onReset(() => {
        deps.metrics.breakerEvents.inc({ ...labels, event: 'close' });
        deps.log.info({ breaker: this.edge, state: 'closed', event: 'circuit_breaker_close' }, `circuit breaker ${this.edge} closed`);
      });
      b.onSuccess(() => deps.metrics.breakerEvents.inc({ ...labels, event: 'success' }));
      b.onFailure(() => deps.metrics.breakerEvents.inc({ ...labels, event: 'failure' }));
      this.breaker = b;
    }
  }

  /** 0 closed, 1 open, 2 half-open (always 0 when the breaker is disabled). */
  get breakerState(): number {
    return this.breaker ? STATE_VALUE[this.breaker.state] : 0;
  }

  async call<T = unknown>(req: TCallRequest): Promise<TCallResult<T>> {
    const policy = req.idempotent ? this.retryAll : this.retryUnsent;
    const to = timeout(req.timeoutMs ?? this.opts.timeoutMs, TimeoutStrategy.Cooperative);
    let attempts = 0;
    return policy
      .execute(async () => {
        const attempt = async () => {
          attempts++;
          return { ...(await to.execute(({ signal }) => this.attempt<T>(req, signal))), attempts };
        };
        if (!this.breaker) return attempt();
        try {
          return await this.breaker.execute(attempt);
        } catch (e) {
          if (e instanceof BrokenCircuitError) {
            this.deps.metrics.breakerEvents.inc({ service: this.deps.service, breaker: this.edge, event: 'rejected' });
            this.deps.metrics.httpClient.observe({ service: this.deps.service, target: this.deps.target, outcome: 'breaker_open' }, 0);
            throw new CallError('breaker_open', this.edge, `circuit breaker ${this.edge} is open`, undefined, undefined, false);
          }
          if (e instanceof TaskCancelledError) {
            throw new CallError('timeout', this.edge, `${this.edge}: ${req.method} ${req.path} timed out after ${req.timeoutMs ?? this.opts.timeoutMs} ms`);
          }
          throw e;
        }
      })
      .catch((e: unknown) => {
        if (e instanceof TaskCancelledError) {
          throw new CallError('timeout', this.edge, `${this.edge}: ${req.method} ${req.path} timed out after ${req.timeoutMs ?? this.opts.timeoutMs} ms`);
        }
        throw e;
      });
  }

  private async pick(): Promise<TRegisteredInstance> {
    let list: TRegisteredInstance[];
    try {
      list = await this.deps.registry.healthy(this.deps.target);
    } catch (e) {
      throw new CallError('no_instance', this.edge, `${this.edge}: registry unavailable: ${(e as Error).message}`, undefined, undefined, false);
    }
    const now = Date.now();
    const usable = list.filter((i) => (this.suspect.get(i.id) ?? 0) < now);
    const pool = usable.length > 0 ? usable : list;
    if (pool.length === 0) throw new CallError('no_instance', this.edge, `${this.edge}: no healthy ${this.deps.target} instance`, undefined, undefined, false);
    this.rr = (this.rr + 1) % 1_000_000;
    return pool[this.rr % pool.length];
  }

  private async attempt<T>(req: TCallRequest, signal: AbortSignal): Promise<Omit<TCallResult<T>, 'attempts'>> {
    const { metrics, service, target } = this.deps;
    const started = performance.now();
    const observe = (outcome: string) => metrics.httpClient.observe({ service, target, outcome }, (performance.now() - started) / 1000);
    let inst: TRegisteredInstance;
    try {
      inst = await this.pick();
    } catch (e) {
      observe('no_instance');
      throw e;
    }
    const direct = new URL(inst.url).host;
    const addr = resolveServiceAddress(this.deps.edges, this.edge, inst.id, direct);
    const headers: Record<string, string> = { accept: 'application/json', ...req.headers };
    const rid = requestContext.getStore()?.requestId;
    if (rid && !headers['x-request-id']) headers['x-request-id'] = rid;
    let body: string | undefined;
    if (req.body !== undefined) {
      body = JSON.stringify(req.body);
      headers['content-type'] = 'application/json';
    }
    let res;
    try {
      res = await this.deps.agent.request({ origin: `http://${addr}`, path: req.path, method: req.method, headers, body, signal });
    } catch (e) {
      if (signal.aborted) {
        observe('timeout');
        throw new TaskCancelledError();
      }
      const code = (e as { code?: string }).code ?? '';
      const refused = code === 'ECONNREFUSED';
      if (refused) this.suspect.set(inst.id, Date.now() + this.deps.registry.ttlMs);
      observe('network_error');
      throw new CallError(
        'network_error',
        this.edge,
        `${this.edge}: ${req.method} ${req.path} to ${inst.id}: ${code || (e as Error).message}`,
        undefined,
        undefined,
        !refused,
      );
    }
    let text: string;
    try {
      text = await res.body.text();
    } catch (e) {
      if (signal.aborted) {
        observe('timeout');
        throw new TaskCancelledError();
      }
      observe('network_error');
      throw new CallError('network_error', this.edge, `${this.edge}: reading answer of ${inst.id}: ${(e as Error).message}`);
    }
    let parsed: unknown = undefined;
    if (text) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = { raw: text };
      }
    }
    // A 5xx marked as a dependency failure is the callee answering on purpose ("my payments
    // are down"): the callee itself is healthy, so it must not trip this edge's breaker.
    const dependencyFailure = res.headers[DEPENDENCY_FAILURE_HEADER] !== undefined;
    if (res.statusCode >= 500 && !dependencyFailure) {
      observe('server_error');
      const msg = (parsed as { error?: { message?: string } })?.error?.message ?? `status ${res.statusCode}`;
      throw new CallError('server_error', this.edge, `${this.edge}: ${req.method} ${req.path} on ${inst.id}: ${msg}`, res.statusCode, parsed);
    }
    observe(res.statusCode >= 500 ? 'server_error' : res.statusCode >= 400 ? 'client_error' : 'success');
    return { status: res.statusCode, body: parsed as T, instance: inst.id, headers: res.headers };
  }
}
