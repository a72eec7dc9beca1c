/**
 * report.json: the stable, versioned result of one run. Every other report
 * file (junit.xml, summary.md, report.html) is rendered from this value, and
 * the analysis functions return its parts, so the shapes are written once.
 *
 * Times are epoch milliseconds; durations are milliseconds; percentages are
 * 0–100. Bump `schemaVersion` on any change that is not purely additive.
 */
import { z } from 'zod';

/**
 * 2: `budgetConsumedPct` is the share of this run's allowed bad events
 * (was: of the SLO period's budget), with `bad` and `allowedBad` beside it;
 * an invariant can pass with pre-existing violations listed; `settle`,
 * `baseline`, `run.loadEndedAt` and violation trails were added.
 * parseReport reads version 1 and upgrades it.
 */
export const REPORT_SCHEMA_VERSION = 2 as const;

export const VERDICTS = ['passed', 'failed', 'aborted', 'errored'] as const;
export type TVerdict = (typeof VERDICTS)[number];

/** Where an SLI was measured. */
export const SLI_SOURCES = ['client-corrected', 'client-k6', 'server'] as const;
export type TSliSource = (typeof SLI_SOURCES)[number];

export const SliFiguresSchema = z.object({
  source: z.enum(SLI_SOURCES),
  good: z.number().nonnegative(),
  valid: z.number().nonnegative(),
  /** good/valid in percent; null without valid events. */
  sli: z.number().nullable(),
  /** sli >= objective; null when it could not be measured. */
  pass: z.boolean().nullable(),
  /** Bad events (valid − good). */
  bad: z.number().nonnegative(),
  /** Bad events this run may have within the objective: (1 − objective) × valid. */
  allowedBad: z.number().nonnegative(),
  /**
   * Share of this run's error budget used, in percent: bad / allowedBad × 100
   * (100 = exactly at the objective, above = the SLO failed). null without valid events.
   */
  budgetConsumedPct: z.number().nullable(),
  /** Worst burn rate over any 1 min (5 min) window of the run (truncated to the run when shorter). */
  worstBurn1m: z.number().nullable(),
  worstBurn5m: z.number().nullable(),
  /** Why figures are missing or approximate (e.g. the histogram bucket used). */
  note: z.string().optional(),
});
export type TSliFigures = z.infer<typeof SliFiguresSchema>;

export const SloResultSchema = z.object({
  name: z.string(),
  route: z.string(),
  sli: z.enum(['availability', 'latency']),
  objective: z.number(),
  thresholdMs: z.number().nullable(),
  windowMs: z.number(),
  verdict: z.enum(['pass', 'fail']),
  /** The figures the verdict is taken from. */
  decidedBy: z.enum(SLI_SOURCES),
  /** Same SLO measured by every source available, for side-by-side display. */
  figures: z.array(SliFiguresSchema),
});
export type TSloResult = z.infer<typeof SloResultSchema>;

export const BREAKER_STATES = ['closed', 'open', 'half-open'] as const;
export type TBreakerState = (typeof BREAKER_STATES)[number];

export const BreakerSegmentSchema = z.object({
  instance: z.string(),
  state: z.enum(BREAKER_STATES),
  from: z.number(),
  /** End of the segment (the next transition, or the end of observation). */
  to: z.number(),
});

export const BreakerTripSchema = z.object({
  /** Time of the transition to open. */
  t: z.number(),
  instance: z.string(),
  /** State before the trip: `closed` for a fresh trip, `half-open` for a failed probe. */
  from: z.enum(BREAKER_STATES),
  /** Fault window the trip falls in (start .. end + grace), or null for a trip no fault explains. */
  fault: z.string().nullable(),
  /** From the fault's start to this trip. */
  afterFaultStartMs: z.number().nullable(),
});

export const BreakerTimelineSchema = z.object({
  breaker: z.string(),
  service: z.string(),
  instances: z.array(z.string()),
  segments: z.array(BreakerSegmentSchema),
  trips: z.array(BreakerTripSchema),
  /** Trips outside every fault window. */
  unexpectedTrips: z.number(),
  /** At least the flapping limit (default 3) of trips from closed within one minute on one instance. */
  flapping: z.boolean(),
  /** Observations the timeline was built from. */
  sources: z.object({ metricSamples: z.number(), logLines: z.number() }),
});
export type TBreakerTimeline = z.infer<typeof BreakerTimelineSchema>;

export const BreakerExpectationResultSchema = z.object({
  breaker: z.string(),
  fault: z.string(),
  pass: z.boolean(),
  timeToOpenMs: z.number().nullable(),
  timeToCloseMs: z.number().nullable(),
  opensWithinMs: z.number(),
  closesWithinMs: z.number(),
  /** What was expected and what happened, in one sentence. */
  message: z.string(),
});
export type TBreakerExpectationResult = z.infer<typeof BreakerExpectationResultSchema>;

/**
 * One step in the story of a violation's ids: a saga state, an order status
 * change, an outbox event, a reservation, a payment, a log line.
 */
export const TrailEntrySchema = z.object({
  /** ISO time of the step; null when the row has none. */
  at: z.string().nullable(),
  /** Where it was read: a table (`orders.sagas`, `payments.payments`) or `log <instance>`. */
  source: z.string(),
  text: z.string(),
});
export type TTrailEntry = z.infer<typeof TrailEntrySchema>;

export const ViolationSchema = z.object({
  /** Short machine name of the anomaly, e.g. `double-capture`, `lost-ack`. */
  kind: z.string(),
  message: z.string(),
  /** The ids involved (order, payment, product, saga, outbox row). */
  ids: z.array(z.string()),
  /** Database rows that show it, as read after quiescence. */
  rows: z.array(z.record(z.string(), z.unknown())).default([]),
  /** Client history events that show it. */
  events: z.array(z.record(z.string(), z.unknown())).default([]),
  /**
   * Found in the consistency baseline taken before the load (same finding,
   * not worse): reported, but it does not fail this run.
   */
  preExisting: z.boolean().optional(),
  /** What happened to the ids this violation names, oldest first (see TrailEntrySchema). */
  trail: z.array(TrailEntrySchema).optional(),
});
export type TViolation = z.infer<typeof ViolationSchema>;

export const InvariantResultSchema = z.object({
  name: z.string(),
  description: z.string(),
  pass: z.boolean(),
  /** Rows or events examined. */
  checked: z.number(),
  violations: z.array(ViolationSchema),
  /**
   * How many findings were already there before the run (the baseline);
   * they are listed with `preExisting: true` (capped) and do not fail it.
   */
  preExisting: z.number().optional(),
  /**
   * An acknowledged-write check: how many writes the load completed (acknowledged, failed or
   * unknown outcome) on its routes. Some but none acknowledged makes the run inconclusive.
   */
  attempted: z.number().optional(),
  /** Set when the check could not run (and then pass is false). */
  error: z.string().optional(),
});
export type TInvariantResult = z.infer<typeof InvariantResultSchema>;

/** An `info` (indeterminate) client operation and whether its effect showed up. */
export const InfoOpSchema = z.object({
  f: z.string(),
  idempotencyKey: z.string().nullable(),
  time: z.number(),
  recovered: z.boolean(),
  /** Final status of the order it created, when recovered. */
  finalStatus: z.string().nullable(),
  orderId: z.string().nullable(),
  error: z.string().nullable(),
});
export type TInfoOp = z.infer<typeof InfoOpSchema>;

export const FaultWindowSchema = z.object({
  name: z.string(),
  type: z.string(),
  target: z.string(),
  /** Planned offset from load start, and planned duration. */
  plannedAtMs: z.number(),
  plannedDurationMs: z.number(),
  /** Actual times (epoch ms); null when never applied / never confirmed removed. */
  appliedAt: z.number().nullable(),
  removedAt: z.number().nullable(),
});
export type TFaultWindow = z.infer<typeof FaultWindowSchema>;

/** One second of load, as the load engine reports it (docs/architecture.md TLoadSecond). */
export const LoadSecondSchema = z.object({
  t: z.number(),
  rps: z.number(),
  errorsByKind: z.record(z.string(), z.number()),
  p50: z.number(),
  p95: z.number(),
  p99: z.number(),
  cp50: z.number(),
  cp95: z.number(),
  cp99: z.number(),
  activeVus: z.number(),
  dropped: z.number(),
  target: z.number(),
});
export type TLoadSecondRow = z.infer<typeof LoadSecondSchema>;

/** Settling after the load: polled until the shop is settled or `maxMs` passed. */
export const SettleSchema = z.object({
  settled: z.boolean(),
  waitedMs: z.number(),
  maxMs: z.number(),
  /** What was still in flight (or `settled`). */
  detail: z.string(),
});
export type TSettle = z.infer<typeof SettleSchema>;

export const ReportSchema = z.object({
  schemaVersion: z.literal(REPORT_SCHEMA_VERSION),
  run: z.object({
    id: z.string(),
    experiment: z.string(),
    description: z.string(),
    target: z.string(),
    /** Load start (the x origin of every chart). */
    startedAt: z.number(),
    /** End of the load (absent in upgraded version-1 reports). */
    loadEndedAt: z.number().optional(),
    /** End of the run: after the load and settling. */
    endedAt: z.number(),
    tags: z.array(z.string()).default([]),
    /** Bug switches active in the shop during the run (SHOP_BUGS). */
    bugs: z.array(z.string()).default([]),
  }),
  verdict: z.enum(VERDICTS),
  /** Why: abort condition, error, or the list of failed checks. */
  reason: z.string().nullable(),
  load: z.object({
    scenario: z.string(),
    engine: z.string(),
    requests: z.number(),
    /** Arrivals the open-model engine could not start in time (coordinated omission shows here). */
    dropped: z.number(),
    /** The scenario's k6 thresholds as the load engine judged them (absent: none recorded). */
    thresholds: z.array(z.object({ metric: z.string(), expression: z.string(), ok: z.boolean() })).optional(),
    /** Whether they count in the verdict: a load test on its own (tag `loadtest`), not an experiment's load under faults. */
    thresholdsJudged: z.boolean().optional(),
  }),
  faults: z.array(FaultWindowSchema),
  /** How the run waited for the shop to settle before the consistency checks (absent: not measured). */
  settle: SettleSchema.optional(),
  /** The consistency baseline taken before the load (absent: none, every finding counts). */
  baseline: z.object({ capturedAt: z.number(), findings: z.number() }).optional(),
  slos: z.array(SloResultSchema),
  breakers: z.object({
    timelines: z.array(BreakerTimelineSchema),
    expectations: z.array(BreakerExpectationResultSchema),
  }),
  invariants: z.array(InvariantResultSchema),
  infoOps: z.array(InfoOpSchema).default([]),
  series: z.object({ seconds: z.array(LoadSecondSchema) }),
  generatedAt: z.number(),
});
export type TReport = z.infer<typeof ReportSchema>;
export type TReportInput = z.input<typeof ReportSchema>;

/**
 * The verdict the checks imply: aborted/errored runs keep their state;
 * otherwise any failed SLO, breaker expectation or invariant fails the run.
 */
export function deriveVerdict(
  r: Pick<TReport, 'slos' | 'breakers' | 'invariants'> & { load?: Partial<Pick<TReport['load'], 'thresholds' | 'thresholdsJudged'>> },
  ended: 'completed' | 'aborted' | 'errored' = 'completed',
): { verdict: TVerdict; reason: string | null } {
  if (ended !== 'completed') return { verdict: ended, reason: null };
  const failed = [
    ...(r.load?.thresholdsJudged ? (r.load.thresholds ?? []).filter((t) => !t.ok).map((t) => `threshold ${t.metric}: ${t.expression}`) : []),
    ...r.slos.filter((s) => s.verdict === 'fail').map((s) => `SLO ${s.name}`),
    ...r.breakers.expectations.filter((b) => !b.pass).map((b) => `breaker ${b.breaker} during ${b.fault}`),
    ...r.invariants.filter((i) => !i.pass).map((i) => `invariant ${i.name}`),
  ];
  if (failed.length) return { verdict: 'failed', reason: `failed: ${failed.join(', ')}` };
  const nothingJudged = inconclusiveReason(r.invariants);
  return nothingJudged ? { verdict: 'errored', reason: nothingJudged } : { verdict: 'passed', reason: null };
}

/**
 * A run whose load tried writes but got none acknowledged cannot pass: the
 * consistency checks had nothing to judge (seen on an overloaded machine,
 * where every checkout timed out and the run would otherwise read green).
 * Judged where the history tells an attempt from no attempt: a target's
 * acknowledged-write check counts the writes attempted on its routes, the
 * shop's `history-consistent` the completed checkouts it checked.
 */
function inconclusiveReason(invariants: readonly Pick<TInvariantResult, 'name' | 'pass' | 'checked' | 'attempted'>[]): string | null {
  const acked = invariants.find((i) => i.name === 'acknowledged-orders-exist' || i.name === 'acknowledged-writes-exist');
  const attempted = acked?.attempted ?? invariants.find((i) => i.name === 'history-consistent')?.checked ?? 0;
  if (!acked?.pass || acked.checked > 0 || attempted === 0) return null;
  return `inconclusive: none of the load's ${attempted} completed writes was acknowledged, so the consistency checks had nothing to judge (is the system under test up, or the machine overloaded?)`;
}
