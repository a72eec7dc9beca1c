/**
 * prom-client metrics of one instance. A registry per instance (not the
 * global one) so several instances can run in one process (startTestShop).
 * Names and labels follow DESIGN.md "Contracts".
 */
import { Registry, Histogram, Counter, Gauge, collectDefaultMetrics } from 'prom-client';

/** Histogram bucket boundaries (seconds) of every shop latency histogram; SLO latency thresholds should sit on one. */
export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function createMetrics(service: string, opts: { defaultMetrics?: boolean } = {}) {
  const registry = new Registry();
  if (opts.defaultMetrics) collectDefaultMetrics({ register: registry });
  const m = {
    registry,
    httpServer: new Histogram({
      name: 'http_server_request_duration_seconds',
      help: 'Server-side request duration by route pattern',
      labelNames: ['service', 'route', 'method', 'status'] as const,
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
    httpClient: new Histogram({
      name: 'http_client_request_duration_seconds',
      help: 'Outbound call attempt duration; target = callee service, outcome = success|client_error|server_error|timeout|network_error|breaker_open|no_instance',
      labelNames: ['service', 'target', 'outcome'] as const,
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
    breakerState: new Gauge({
      name: 'circuit_breaker_state',
      help: 'Circuit breaker state: 0 closed, 1 open, 2 half-open',
      labelNames: ['service', 'breaker'] as const,
      registers: [registry],
    }),
    breakerEvents: new Counter({
      name: 'circuit_breaker_events_total',
      help: 'Circuit breaker events: open, close, half_open, success, failure, rejected',
      labelNames: ['service', 'breaker', 'event'] as const,
      registers: [registry],
    }),
    retries: new Counter({
      name: 'http_client_retries_total',
      help: 'Outbound call retries by target',
      labelNames: ['service', 'target'] as const,
      registers: [registry],
    }),
    sagaTransitions: new Counter({
      name: 'saga_transitions_total',
      help: 'Checkout/cancel saga state transitions',
      labelNames: ['service', 'from', 'to'] as const,
      registers: [registry],
    }),
    sagaOpen: new Gauge({
      name: 'saga_open',
      help: 'Sagas not yet in a terminal state (sampled by the sweeper)',
      labelNames: ['service'] as const,
      registers: [registry],
    }),
    outboxPending: new Gauge({
      name: 'outbox_pending',
      help: 'Outbox rows not yet published to the queue (sampled by the relay)',
      labelNames: ['service'] as const,
      registers: [registry],
    }),
    outboxPublished: new Counter({
      name: 'outbox_published_total',
      help: 'Outbox rows relayed to BullMQ',
      labelNames: ['service', 'topic'] as const,
      registers: [registry],
    }),
    inboxMessages: new Counter({
      name: 'inbox_messages_total',
      help: 'Messages received by a consumer; result = processed|duplicate|failed',
      labelNames: ['service', 'consumer', 'result'] as const,
      registers: [registry],
    }),
    rateLimited: new Counter({
      name: 'gateway_rate_limited_total',
      help: 'Requests rejected by the per-client rate limit',
      labelNames: ['service'] as const,
      registers: [registry],
    }),
    cacheFallbacks: new Counter({
      name: 'cache_fallback_total',
      help: 'Reads answered from a cache because the source failed',
      labelNames: ['service', 'cache'] as const,
      registers: [registry],
    }),
  };
  return m;
}

export type TMetrics = ReturnType<typeof createMetrics>;
