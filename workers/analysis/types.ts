/**
 * The plain data the analysis reads. These are structural subsets of the
 * contracts in docs/architecture.md (THistoryEvent of the load engine,
 * scraped metric samples, log records), so the analysis stays pure and can
 * be fed from storage, from a live run or from a test fixture alike.
 */
import type { THistoryEvent } from '../../loadtests/index.js';

/**
 * A client history event: the load engine's THistoryEvent (Jepsen-style
 * invoke/ok/fail/info), with `f` widened so histories stored by other tools
 * (or a newer engine) still read. `latencyMs` is k6-style (from the request
 * being sent); `correctedLatencyMs` is from the scheduled start, so queueing
 * behind a stall counts; `route` is derived from `f` when absent.
 */
export type THistoryEventLike = Omit<THistoryEvent, 'f'> & { f: string };

/** One scraped sample: cumulative counter / bucket value as exposed. */
export interface TMetricSample {
  /** epoch ms of the scrape */
  t: number;
  instance: string;
  service: string;
  /** Exposition name, e.g. `http_server_request_duration_seconds_bucket`. */
  metric: string;
  labels: Record<string, string>;
  value: number;
}

/** A shop log line (LogStore record shape). */
export interface TLogRecord {
  time: number | string | Date;
  level?: string | number;
  service: string;
  instance: string;
  msg: string;
  fields?: Record<string, unknown>;
}

/** A fault as it actually happened in the run. */
export interface TFaultWindowLike {
  name: string;
  /** epoch ms when applied; null when it never was. */
  appliedAt: number | null;
  /** epoch ms when removed; null when the run lost track (then the run end is used). */
  removedAt: number | null;
}

/** The shop's routes per history `f` (docs/architecture.md public API). */
export const ROUTE_OF_F: Record<string, string> = {
  checkout: 'POST /checkout',
  cancel: 'POST /orders/:id/cancel',
  order_status: 'GET /orders/:id',
  browse: 'GET /products',
  view_product: 'GET /products/:id',
  login: 'POST /login',
  register: 'POST /users',
};

/** `METHOD /path` of a history event. */
export function routeOfEvent(e: Pick<THistoryEventLike, 'route' | 'f'>): string | undefined {
  if (e.route && /^[A-Z]+ \//.test(e.route)) return e.route;
  const byF = ROUTE_OF_F[e.f];
  if (e.route && byF) return `${byF.split(' ')[0]} ${e.route}`;
  return byF;
}

/**
 * One finding of the consistency baseline: which check flagged which row,
 * and how bad it was. After the run the same key counts as pre-existing
 * unless its measure grew (e.g. a product already off by 2 units that is
 * now off by 5 is a new finding: this run made it worse).
 */
export interface TBaselineFinding {
  invariant: string;
  /** Check kind, e.g. `stock-equation`, `double-capture`. */
  kind: string;
  /** Identity of the offending row(s), e.g. `product 3`, `order 120 cancelled`. */
  key: string;
  /** Size of the anomaly (units off, captures); 0 when it is simply present. */
  measure: number;
}

/**
 * Everything the consistency invariants would flag before the load starts
 * (captureConsistencyBaseline). Plain JSON, so it can be stored with the run.
 */
export interface TConsistencyBaseline {
  /** epoch ms */
  capturedAt: number;
  findings: TBaselineFinding[];
  /** Invariants whose baseline query failed: their findings are all judged as new. */
  errors: { invariant: string; message: string }[];
  /**
   * A target file's `settled` rows before the load (each as JSON): what was in flight then and
   * still is after the load is stuck from before, and is not waited for.
   */
  inFlight?: string[];
}

/** The runner's settling wait (isSettled polled up to maxMs), as the report shows it. */
export interface TSettleOutcome {
  settled: boolean;
  waitedMs: number;
  maxMs: number;
  detail: string;
}
