/**
 * The result model shared by the built-in engine and the k6 adapter
 * (contract in docs/architecture.md, "Load").
 */
import type { TRawSink } from './engine/metrics.js';
import type { TThresholdResult } from './thresholds.js';

export type TLoadEngine = 'builtin' | 'k6';

/** One metric as k6's handleSummary data holds it. */
export interface TK6SummaryMetric {
  type: 'counter' | 'gauge' | 'rate' | 'trend';
  contains: 'default' | 'time' | 'data';
  values: Record<string, number>;
  thresholds?: Record<string, { ok: boolean }>;
}

/** One second of the run, published while it goes. Latencies in ms. */
export interface TLoadSecond {
  /** Epoch ms, start of the second. */
  t: number;
  /** Requests completed in this second. */
  rps: number;
  /** Failed requests by kind (`http_503`, `timeout`, `econnrefused`, ...). */
  errorsByKind: Record<string, number>;
  /** http_req_duration percentiles (k6's measure: send → response end). */
  p50: number;
  p95: number;
  p99: number;
  /** Latency from the iteration's intended start (no coordinated omission). */
  cp50: number;
  cp95: number;
  cp99: number;
  activeVus: number;
  /** dropped_iterations in this second. */
  dropped: number;
  /** Scheduled iterations in this second (0 for VU-based executors, which have no schedule). */
  target: number;
  /**
   * This second's latency histograms (HdrHistogram compressed base64, µs),
   * present when the run was asked to be mergeable: segments of one run merge
   * their seconds exactly with `mergeSeconds`.
   */
  hdr?: { dur: string; cdur: string };
}

/** What merging needs beyond the summary: every metric's full state. */
export interface TRawRun {
  /** Epoch ms when the load (not setup) started. */
  loadStartedAt: number;
  /** Duration of the load phase in ms (counters' rate base). */
  runMs: number;
  /** Every metric and sub-metric sink, by name. */
  metrics: Record<string, TRawSink>;
}

/** The shop's operations, or `request`: one request of a plain-HTTP scenario (its name in `value.name`). */
export type THistoryF = 'checkout' | 'cancel' | 'order_status' | 'browse' | 'view_product' | 'login' | 'register' | 'request';

/** One operation in Jepsen-style history: `invoke`, then `ok`, `fail`, or `info` (outcome unknown). */
export interface THistoryEvent {
  index: number;
  type: 'invoke' | 'ok' | 'fail' | 'info';
  f: THistoryF;
  /** VU number (0 = setup). */
  process: number;
  /** Epoch ms. */
  time: number;
  value: {
    idempotencyKey?: string;
    orderId?: string;
    status?: number;
    totalCents?: number;
    items?: { productId: string; qty: number }[];
    error?: string;
    /** Plain-HTTP scenarios: the request's name. */
    name?: string;
    /**
     * The entity the operation wrote or is about: the id an acknowledged write answered with
     * (a plain-HTTP scenario's `acknowledged`; the shop's checkout), or the id a later operation
     * names (the shop's cancel). A target's acknowledged-write check reads it.
     */
    id?: string;
    /**
     * The write request's own key (an idempotency key: the shop's checkout, a plain-HTTP
     * scenario's `acknowledged[].key`), on the invoke and its completion: a write the client saw
     * fail, or one it never sent, is looked up by it after the run.
     */
    key?: string;
    /** Values of an acknowledging response the run records (`acknowledged[].record`: JSON path → value), to compare with the write's row after the run. */
    fields?: Record<string, string | number | boolean | null>;
  };
  latencyMs?: number;
  correctedLatencyMs?: number;
  route?: string;
}

export interface TLoadResult {
  engine: TLoadEngine;
  /** Epoch ms. */
  startedAt: number;
  endedAt: number;
  /** k6's exit status: 0, 99 thresholds failed, 105 aborted from outside, 107 setup failed. */
  exitCode: number;
  metrics: Record<string, TK6SummaryMetric>;
  thresholds: TThresholdResult[];
  seconds: TLoadSecond[];
  history: THistoryEvent[];
  /** Why the run stopped early, when it did. */
  abortReason?: string;
  /** Full metric state for an exact merge (runs asked to be mergeable, e.g. segments). */
  raw?: TRawRun;
}

export const EXIT = { OK: 0, THRESHOLDS_FAILED: 99, EXTERNAL_ABORT: 105, SCRIPT_EXCEPTION: 107, INVALID_CONFIG: 104 } as const;
