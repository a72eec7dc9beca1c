/**
 * The experiment file: one zod schema shared by console, CLI and workers
 * (STYLE.md "one schema per contract"). Types are inferred from it.
 *
 * Durations are written as `250ms`, `10s`, `2m`, `1h`, `30d` (or a bare
 * number of seconds) and parse to **milliseconds**; every duration field of
 * the parsed value is in ms.
 *
 * A parsed experiment is configuration: never mutate it, derive a run plan.
 */
import { z } from 'zod';
import { FaultSpecSchema } from '../chaos/index.js';
import { FAULTLINE_DURATION, formatDuration as formatCoreDuration, parseDuration } from '../core/duration.js';

/** Parse `"1.5s"` / `"1m30s"` / `"250ms"` / `"30d"` / `12` (seconds) to ms; `undefined` when malformed (core/duration). */
export function parseDurationMs(v: string | number): number | undefined {
  return parseDuration(v, FAULTLINE_DURATION);
}

/** Inverse of parseDurationMs for display (`90000` → `1m30s`): core/duration. */
export const formatDuration = formatCoreDuration;

/** A duration field; parses to ms. */
export const DurationSchema = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const ms = parseDurationMs(v);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `expected a duration like "500ms", "10s", "2m", "30d" (got ${JSON.stringify(v)})` });
    return z.NEVER;
  }
  return ms;
});

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/**
 * A duration field with bounds: `window: 0d` or `duration: 99999999d` is a
 * field error naming the bounds, not a run that divides by zero or never ends.
 */
export function boundedDuration(minMs: number, maxMs: number) {
  return DurationSchema.pipe(
    z
      .number()
      .min(minMs, { error: `must be at least ${minMs === 0 ? '0' : formatDuration(minMs)}` })
      .max(maxMs, { error: `must be at most ${formatDuration(maxMs)}` }),
  );
}

/** Sane bounds of the experiment's durations (issue 13). */
export const DURATION_BOUNDS = {
  /** SLO window: the budget period burn rates are relative to. */
  sloWindow: { min: MINUTE, max: 90 * DAY },
  /** Load duration (override of the scenario's). */
  load: { min: 1000, max: DAY },
  /** A fault's offset and length (also bounded by the load when known). */
  fault: { min: 0, max: DAY },
  /** Maximum settle wait after the load. */
  quiescence: { min: 0, max: 10 * MINUTE },
  /** Abort windows and breaker deadlines. */
  window: { min: 0, max: DAY },
} as const;

/** Names of the consistency invariants the analysis checks (workers/analysis/consistency). */
export const INVARIANT_NAMES = [
  /** per product: initial = available + reserved + sold (reserved = live reservations) */
  'stock-conserved',
  /** no stock column ever below zero after quiescence */
  'stock-non-negative',
  /** each confirmed order has exactly one captured payment of its amount; never two captures per order */
  'payment-exactly-once',
  /** no payment row without an order */
  'no-charge-without-order',
  /** every order the client saw acknowledged (2xx) exists */
  'acknowledged-orders-exist',
  /** every saga is in a terminal state after quiescence */
  'saga-terminal',
  /** cancelled orders have their payment refunded in full and their stock released; refunds only for cancelled orders */
  'refunds-match-cancellations',
  /** the outbox holds no unpublished row after quiescence */
  'outbox-drained',
  /** every client-observed outcome agrees with the final order state; no unknown ids */
  'history-consistent',
] as const;
export type TInvariantName = (typeof INVARIANT_NAMES)[number];

/**
 * The shop's checks by the names targets/shop.yaml gives them (the built-in checker's names, its
 * acknowledged-write check under the name every target file's has). `acknowledged-orders-exist`
 * is still read, as the old name of `acknowledged-writes-exist`.
 */
export const SHOP_INVARIANTS: readonly string[] = INVARIANT_NAMES.map((n) => (n === 'acknowledged-orders-exist' ? 'acknowledged-writes-exist' : n));
const OLD_NAMES: Readonly<Record<string, string>> = { 'acknowledged-orders-exist': 'acknowledged-writes-exist' };

/** The shop's deliberate bug switches (SHOP_BUGS). */
export const BUG_SWITCHES = [
  'double-charge',
  'missing-compensation',
  'breaker-disabled',
  'lost-ack',
  'oversell',
  'consume-before-commit',
  'confirm-outside-tx',
] as const;
export type TBugSwitch = (typeof BUG_SWITCHES)[number];

const NameSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]*$/, 'use lowercase letters, digits and "-"')
  .max(80);

/** `POST /checkout`: method, space, path as the shop's route label shows it. */
const RouteSchema = z.string().regex(/^(GET|POST|PUT|PATCH|DELETE) \/[^\s]*$/, 'expected "METHOD /path", e.g. "POST /checkout"');

export const SloSchema = z
  .object({
    name: NameSchema,
    route: RouteSchema,
    /** availability: good = not a 5xx / transport error; latency: good = ok and under threshold_ms */
    sli: z.enum(['availability', 'latency']),
    /** Latency SLI only: a request is good when it answered within this many ms. */
    threshold_ms: z.number().positive().optional(),
    /** Target percentage of good events, e.g. 99.5. */
    objective: z.number().gt(0).lt(100),
    /** SLO period the budget is defined over (burn rates are relative to it). @defaultValue 30d */
    window: boundedDuration(DURATION_BOUNDS.sloWindow.min, DURATION_BOUNDS.sloWindow.max).default(30 * DAY),
  })
  .strict()
  .superRefine((s, ctx) => {
    if (s.sli === 'latency' && s.threshold_ms === undefined) ctx.addIssue({ code: 'custom', path: ['threshold_ms'], message: 'required when sli is latency' });
    if (s.sli === 'availability' && s.threshold_ms !== undefined)
      ctx.addIssue({ code: 'custom', path: ['threshold_ms'], message: 'only valid when sli is latency' });
  });

/** `checkout-mix` (a shipped scenario) or the path of a scenario file (`../load.yaml`, relative to the experiment file). */
export const ScenarioRefSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]*$|^\S+\.ya?ml$/, 'a shipped scenario name (lowercase letters, digits and "-") or the path of a .yaml scenario file')
  .max(500);

/** `shop` (the bundled shop) or the path of a target file (`../target.yaml`, relative to the experiment file). */
export const TargetRefSchema = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9_-]{0,79}$|^\S+\.ya?ml$/,
    '"shop", the name of a target saved in the console, or the path of a target file ending in .yaml (relative to the experiment file)',
  )
  .max(500);

/** True when an experiment's target is a target file rather than the bundled shop. */
export function isTargetFile(target: string): boolean {
  return target !== 'shop';
}

/** An invariant of the target: a shop invariant name, a target file's invariant name, or `*` (every one of the target's). */
const InvariantRefSchema = z.string().regex(/^\*$|^[a-z0-9][a-z0-9_-]*$/, 'an invariant name, or "*" for all of the target\'s');

export const LoadSchema = z
  .object({
    /** Scenario: a shipped name (`loadtests/scenarios/<scenario>.yaml`) or a scenario file path relative to the experiment. */
    scenario: ScenarioRefSchema,
    /** Override of the scenario's arrival rate (requests/s). */
    rate: z.number().positive().max(10_000).optional(),
    /** Override of the scenario's duration (1s..24h). */
    duration: boundedDuration(DURATION_BOUNDS.load.min, DURATION_BOUNDS.load.max).optional(),
    /** Override of the scenario's maximum VUs. */
    vus: z.number().int().positive().max(5000).optional(),
    /**
     * Split the load into this many k6 execution segments, each a job on the
     * platform's load queue that any connected worker takes (built-in engine;
     * with k6: N local k6 processes); one setup, one agreed start, one merged
     * result. Absent: the scenario's `segments`, else 1.
     */
    segments: z.number().int().min(1).max(64).optional(),
  })
  .strict();

export const TimedFaultSchema = z
  .object({
    /** Referenced by breaker expectations (`during`). */
    name: NameSchema,
    /** Offset from load start (within the load). */
    at: boundedDuration(DURATION_BOUNDS.fault.min, DURATION_BOUNDS.fault.max),
    /** How long the fault stays applied; it is removed afterwards (always, also on abort). Ends within the load. */
    duration: boundedDuration(DURATION_BOUNDS.fault.min, DURATION_BOUNDS.fault.max),
    fault: FaultSpecSchema,
  })
  .strict();

export const AbortConditionSchema = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('error_rate'),
      /** Percentage of failed requests (client side) above which the run aborts. */
      above: z.number().gt(0).max(100),
      /** The error rate must stay above the limit this long. */
      for: boundedDuration(DURATION_BOUNDS.window.min, DURATION_BOUNDS.window.max),
    })
    .strict(),
  z
    .object({
      kind: z.literal('burn_rate'),
      /** Name of an SLO of this experiment. */
      slo: NameSchema,
      /** Burn rate (multiples of the sustainable rate) above which the run aborts. */
      above: z.number().positive(),
      /** Window over which the burn rate is measured. @defaultValue 1m */
      window: boundedDuration(1000, DURATION_BOUNDS.window.max).default(60_000),
    })
    .strict(),
]);

export const BreakerExpectationSchema = z
  .object({
    /**
     * Breaker name: for the shop the edge it protects (`orders->payments`); for a target file the
     * name its breaker metric reports (`api->ledger`, or a Resilience4j instance name like `ledgerService`).
     */
    breaker: z
      .string()
      .regex(
        /^[A-Za-z0-9][A-Za-z0-9_.:-]*(->[A-Za-z0-9][A-Za-z0-9_.:-]*)?$/,
        'expected a breaker name: "<from>-><to>" (e.g. "orders->payments"), or the name a target\'s breaker metric reports (e.g. "ledgerService")',
      ),
    /** Name of a fault of this experiment during which the breaker must open. */
    opens_during: NameSchema,
    /** Maximum time from the fault start to the open transition. @defaultValue the fault's duration */
    opens_within: boundedDuration(DURATION_BOUNDS.window.min, DURATION_BOUNDS.window.max).optional(),
    /** The breaker must be closed again within this time after the fault is removed. */
    closes_within: boundedDuration(DURATION_BOUNDS.window.min, DURATION_BOUNDS.window.max),
  })
  .strict();

/** Fault kinds a nemesis draws from (each maps to one fault type of chaos/faults/spec.ts). */
export const NEMESIS_KINDS = [
  /** `latency` on an edge, `latency_ms` long: past the caller's timeout. */
  'latency',
  /** `reset_peer` on an edge: every connection reset (TCP RST). */
  'reset_peer',
  /** `partition` (blackhole) of every edge into one node: a service or a data store cut off from its callers. */
  'partition',
  /** `kill` (SIGKILL) of one instance, held down for the fault's duration. */
  'kill',
  /** `pause` (SIGSTOP) of one instance for the fault's duration. */
  'pause',
  /** `http_abort` with `http_status` on one route of one service. */
  'http_abort',
  /**
   * `limit_data` upstream on an edge: every connection is cut after
   * `cut_bytes` sent (new ones too), so a multi-statement write fails between
   * any two of its statements. Opt-in (not in the default kinds): adding a
   * kind to the default would change the schedule of every existing seed.
   */
  'cut',
] as const;
export type TNemesisKind = (typeof NEMESIS_KINDS)[number];
/** The kinds a nemesis draws from when it lists none: every kind but the opt-in `cut`. */
export const DEFAULT_NEMESIS_KINDS: readonly TNemesisKind[] = NEMESIS_KINDS.filter((k) => k !== 'cut');

/** `"payments POST /charges"`: a service and one of its routes, for `http_abort`. */
export const NEMESIS_ROUTE_RE = /^([a-z0-9_.-]+) (GET|POST|PUT|PATCH|DELETE) (\/\S*)$/;

const NemesisDurationRangeSchema = z
  .object({
    min: boundedDuration(100, 10 * MINUTE),
    max: boundedDuration(100, 10 * MINUTE),
  })
  .strict()
  .superRefine((r, ctx) => {
    if (r.max < r.min) ctx.addIssue({ code: 'custom', path: ['max'], message: `must be at least min (${formatDuration(r.min)})` });
  });

/**
 * The nemesis, after Jepsen: during the load, a seeded random schedule of
 * short faults across the target's edges and instances. The same seed and
 * topology give the same schedule (experiments/nemesis.ts plans it).
 */
export const NemesisSchema = z
  .object({
    /** Seed of the schedule; change it to explore another schedule, keep it to replay one. */
    seed: z.number({ error: 'seed must be a whole number' }).int({ error: 'seed must be a whole number' }).min(0).max(4_294_967_295),
    /** Fault kinds to draw from. @defaultValue every kind but `cut` */
    kinds: z
      .array(z.enum(NEMESIS_KINDS, { error: `kind must be one of ${NEMESIS_KINDS.join(', ')}` }))
      .min(1, { error: 'list at least one fault kind' })
      .default([...DEFAULT_NEMESIS_KINDS]),
    /** Number of faults (exclusive with `every`). */
    count: z.number().int({ error: 'count must be a whole number' }).min(1).max(1000).optional(),
    /** One fault per this much of the active window (exclusive with `count`). @defaultValue 4s when neither is given */
    every: boundedDuration(500, DAY).optional(),
    /** Each fault's duration, drawn uniformly. @defaultValue 2s..5s */
    duration: NemesisDurationRangeSchema.default({ min: 2000, max: 5000 }),
    /** No fault before this offset from the load start (the steady state is seen first). @defaultValue 3s */
    start_after: boundedDuration(0, DAY).default(3000),
    /** No fault in the last part of the load: the shop recovers under load before it settles. @defaultValue 5s */
    quiet_tail: boundedDuration(0, DAY).default(5000),
    /** At most this many nemesis faults at once. @defaultValue 2 */
    max_concurrent: z.number().int().min(1).max(20).default(2),
    /** Added delay of a `latency` fault, ms; make it exceed the caller's timeout. @defaultValue 3000 */
    latency_ms: z.number().int().min(1).max(600_000).default(3000),
    /** Bytes a connection may send before a `cut` fault closes it. @defaultValue 2000 */
    cut_bytes: z.number().int().min(1).max(1_000_000_000).default(2000),
    /** Status of an `http_abort` fault. @defaultValue 503 */
    http_status: z.number().int().min(500, { error: 'http_status must be a 5xx status' }).max(599, { error: 'http_status must be a 5xx status' }).default(503),
    /** Routes an `http_abort` picks from, `"<service> <METHOD> <route>"`. @defaultValue the shop's inter-service routes */
    routes: z
      .array(z.string().regex(NEMESIS_ROUTE_RE, { error: 'expected "<service> <METHOD> /route", e.g. "payments POST /charges"' }))
      .min(1)
      .optional(),
    /** Edges (`orders->redis`), instances (`gateway-0`) or services (`users`) never targeted. @defaultValue none */
    exclude: z
      .array(
        z.string().regex(/^[a-z0-9_.-]+(->[a-z0-9_.-]+)?$/i, { error: 'expected an edge ("orders->redis"), an instance ("gateway-0") or a service ("users")' }),
      )
      .default([]),
  })
  .strict()
  .superRefine((n, ctx) => {
    if (n.count !== undefined && n.every !== undefined) ctx.addIssue({ code: 'custom', path: ['every'], message: 'give either count or every, not both' });
    const dup = n.kinds.find((k, i) => n.kinds.indexOf(k) !== i);
    if (dup) ctx.addIssue({ code: 'custom', path: ['kinds'], message: `"${dup}" listed twice` });
  });
export type TNemesis = z.infer<typeof NemesisSchema>;

export const ExperimentSchema = z
  .object({
    name: NameSchema,
    description: z.string().min(1),
    /**
     * System under test: `shop` (the bundled shop), or the path of a target
     * file (docs/targets.md), relative to the experiment file. @defaultValue shop
     */
    target: TargetRefSchema.default('shop'),
    load: LoadSchema,
    steady_state: z
      .object({
        /** SLOs checked before faults (the hypothesis) and judged over the whole run. */
        slos: z.array(SloSchema).min(1),
      })
      .strict(),
    faults: z.array(TimedFaultSchema).default([]),
    /** A seeded random schedule of short faults during the load, expanded per run (experiments/nemesis.ts). */
    nemesis: NemesisSchema.optional(),
    abort: z.array(AbortConditionSchema).default([]),
    expectations: z
      .object({
        breakers: z.array(BreakerExpectationSchema).default([]),
        /**
         * Invariants that must hold after quiescence: the shop's (INVARIANT_NAMES), or for a
         * target file its `invariants` names plus `acknowledged-writes-exist`; `*` means all
         * of the target's. @defaultValue all of them (`*` for a target file)
         */
        invariants: z.array(InvariantRefSchema).optional(),
      })
      .strict()
      .default({ breakers: [] }),
    /**
     * The longest fault-free wait after the load for the shop to settle
     * before the consistency checks (the run goes on as soon as it has
     * settled); at most 10m. @defaultValue 10s
     */
    quiescence: boundedDuration(DURATION_BOUNDS.quiescence.min, DURATION_BOUNDS.quiescence.max).default(10_000),
    tags: z.array(z.string().min(1)).default([]),
    /** Bug switches this experiment is meant to catch (each must make it fail). */
    detects: z.array(z.enum(BUG_SWITCHES)).default([]),
  })
  .strict()
  .superRefine((e, ctx) => {
    const seen = new Set<string>();
    e.steady_state.slos.forEach((s, i) => {
      if (seen.has(s.name)) ctx.addIssue({ code: 'custom', path: ['steady_state', 'slos', i, 'name'], message: `duplicate SLO name "${s.name}"` });
      seen.add(s.name);
    });
    const faults = new Map<string, { at: number; duration: number }>();
    e.faults.forEach((f, i) => {
      if (faults.has(f.name)) ctx.addIssue({ code: 'custom', path: ['faults', i, 'name'], message: `duplicate fault name "${f.name}"` });
      faults.set(f.name, f);
      if (e.nemesis && f.name.startsWith('nemesis-'))
        ctx.addIssue({ code: 'custom', path: ['faults', i, 'name'], message: 'names starting with "nemesis-" are the nemesis schedule\'s; rename this fault' });
      if (f.duration <= 0) ctx.addIssue({ code: 'custom', path: ['faults', i, 'duration'], message: 'must be greater than 0' });
      if (e.load.duration !== undefined && f.at + f.duration > e.load.duration)
        ctx.addIssue({
          code: 'custom',
          path: ['faults', i, 'duration'],
          message: `fault ends at ${formatDuration(f.at + f.duration)}, after the load (${formatDuration(e.load.duration)})`,
        });
    });
    if (e.nemesis && e.load.duration !== undefined) {
      const n = e.nemesis;
      const room = e.load.duration - n.start_after - n.quiet_tail;
      if (room < n.duration.min)
        ctx.addIssue({
          code: 'custom',
          path: ['nemesis', 'quiet_tail'],
          message: `no room for a fault: start_after ${formatDuration(n.start_after)} + quiet_tail ${formatDuration(n.quiet_tail)} leave ${room > 0 ? formatDuration(room) : 'nothing'} of the ${formatDuration(e.load.duration)} load, less than duration.min ${formatDuration(n.duration.min)}`,
        });
    }
    e.abort.forEach((a, i) => {
      if (a.kind === 'burn_rate' && !seen.has(a.slo))
        ctx.addIssue({ code: 'custom', path: ['abort', i, 'slo'], message: `no SLO named "${a.slo}" in steady_state.slos` });
    });
    e.expectations.breakers.forEach((b, i) => {
      if (!faults.has(b.opens_during))
        ctx.addIssue({ code: 'custom', path: ['expectations', 'breakers', i, 'opens_during'], message: `no fault named "${b.opens_during}"` });
    });
    shopOnlyIssues(e, ctx);
  })
  // the default invariants depend on the target: the shop's names, or every one of a target file's
  .transform((e) => ({
    ...e,
    expectations: {
      ...e.expectations,
      invariants: e.expectations.invariants?.map((n) => OLD_NAMES[n] ?? n) ?? (isTargetFile(e.target) ? ['*'] : [...SHOP_INVARIANTS]),
    },
  }));

/** What only the shop has: its invariant names, its breakers named after edges. */
function shopOnlyIssues(e: { target: string; expectations: { invariants?: string[]; breakers: { breaker: string }[] } }, ctx: z.RefinementCtx): void {
  const shopNames: readonly string[] = [...SHOP_INVARIANTS, ...Object.keys(OLD_NAMES), '*'];
  if (isTargetFile(e.target)) return;
  // the shop's breakers are named after the edge they protect
  e.expectations.breakers.forEach((b, i) => {
    if (!/^[a-z0-9-]+->[a-z0-9-]+$/.test(b.breaker))
      ctx.addIssue({ code: 'custom', path: ['expectations', 'breakers', i, 'breaker'], message: 'expected "<from>-><to>", e.g. "orders->payments"' });
  });
  e.expectations.invariants?.forEach((n, i) => {
    if (!shopNames.includes(n))
      ctx.addIssue({
        code: 'custom',
        path: ['expectations', 'invariants', i],
        message: `unknown invariant "${n}"; the shop's: ${SHOP_INVARIANTS.join(', ')}`,
      });
  });
}

export type TExperiment = z.infer<typeof ExperimentSchema>;
export type TExperimentInput = z.input<typeof ExperimentSchema>;
export type TSlo = z.infer<typeof SloSchema>;
export type TTimedFault = z.infer<typeof TimedFaultSchema>;
export type TAbortCondition = z.infer<typeof AbortConditionSchema>;
export type TNemesisInput = z.input<typeof NemesisSchema>;
export type TBreakerExpectation = z.infer<typeof BreakerExpectationSchema>;

export const SuiteSchema = z
  .object({
    name: NameSchema,
    description: z.string().min(1),
    /** Experiment names (`experiments/<name>.yaml`) or paths relative to the suite file. */
    experiments: z.array(z.string().min(1)).min(1),
  })
  .strict();
export type TSuite = z.infer<typeof SuiteSchema>;
