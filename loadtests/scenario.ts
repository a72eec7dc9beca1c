/**
 * The scenario file: one zod schema shared by the built-in engine, the k6
 * scripts (they read the same YAML) and the CLI. Executor names, parameters
 * and defaults are k6's; thresholds use k6 syntax and are checked here so a
 * bad one is a field error with its line, not a failure mid-run.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { AppError } from '../core/errors.js';
import { parseYamlWith } from '../core/validate.js';
import { WriteKeySchema } from '../core/write-key.js';
import { parseDuration } from './duration.js';
import { aggAllowed, parseMetricSelector, parseThresholdExpression, type TMetricType } from './thresholds.js';

/** Metrics the built-in engine emits (k6's built-ins plus the corrected latency). */
export const ENGINE_METRICS: Record<string, { type: TMetricType; contains: 'default' | 'time'; k6: boolean }> = {
  http_reqs: { type: 'counter', contains: 'default', k6: true },
  http_req_duration: { type: 'trend', contains: 'time', k6: true },
  http_req_waiting: { type: 'trend', contains: 'time', k6: true },
  http_req_receiving: { type: 'trend', contains: 'time', k6: true },
  http_req_failed: { type: 'rate', contains: 'default', k6: true },
  iterations: { type: 'counter', contains: 'default', k6: true },
  iteration_duration: { type: 'trend', contains: 'time', k6: true },
  dropped_iterations: { type: 'counter', contains: 'default', k6: true },
  checks: { type: 'rate', contains: 'default', k6: true },
  vus: { type: 'gauge', contains: 'default', k6: true },
  vus_max: { type: 'gauge', contains: 'default', k6: true },
  /** Latency from the iteration's intended start (wrk2-style, no coordinated omission). Not a k6 metric. */
  http_req_corrected_duration: { type: 'trend', contains: 'time', k6: false },
  /** How late each iteration started against its schedule (open-model accuracy). Not a k6 metric. */
  iteration_start_lag: { type: 'trend', contains: 'time', k6: false },
};

export const SHOP_ACTIONS = ['browse', 'view_product', 'checkout', 'order_status', 'cancel'] as const;
export type TShopAction = (typeof SHOP_ACTIONS)[number];

const DurationSchema = z.string().refine((s) => parseDuration(s) !== undefined, { message: 'expected a k6 duration such as 30s, 1m30s or 500ms' });

const atLeast = (minMs: number, what: string) =>
  DurationSchema.refine((s) => (parseDuration(s) ?? 0) >= minMs, { message: `${what} must be at least ${minMs >= 1000 ? `${minMs / 1000}s` : `${minMs}ms`}` });

const Int = z.number().int();
const StageSchema = z.object({ duration: DurationSchema, target: Int.min(0) }).strict();

const common = { gracefulStop: DurationSchema.default('30s') };

const ConstantArrivalRateSchema = z
  .object({
    executor: z.literal('constant-arrival-rate'),
    rate: Int.positive(),
    timeUnit: atLeast(1, 'timeUnit').default('1s'),
    duration: atLeast(1000, 'duration'),
    preAllocatedVUs: Int.min(0),
    maxVUs: Int.min(0).optional(),
    ...common,
  })
  .strict();

const RampingArrivalRateSchema = z
  .object({
    executor: z.literal('ramping-arrival-rate'),
    startRate: Int.min(0).default(0),
    timeUnit: atLeast(1, 'timeUnit').default('1s'),
    stages: z.array(StageSchema).min(1),
    preAllocatedVUs: Int.min(0),
    maxVUs: Int.min(0).optional(),
    ...common,
  })
  .strict();

const ConstantVusSchema = z
  .object({ executor: z.literal('constant-vus'), vus: Int.positive().default(1), duration: atLeast(1000, 'duration'), ...common })
  .strict();

const RampingVusSchema = z
  .object({
    executor: z.literal('ramping-vus'),
    startVUs: Int.min(0).default(1),
    stages: z.array(StageSchema).min(1),
    gracefulRampDown: DurationSchema.default('30s'),
    ...common,
  })
  .strict();

export const ExecutorConfigSchema = z
  .discriminatedUnion('executor', [ConstantArrivalRateSchema, RampingArrivalRateSchema, ConstantVusSchema, RampingVusSchema])
  .superRefine((v, ctx) => {
    if ('maxVUs' in v && v.maxVUs !== undefined && v.maxVUs < v.preAllocatedVUs)
      ctx.addIssue({ code: 'custom', path: ['maxVUs'], message: `maxVUs (${v.maxVUs}) must be >= preAllocatedVUs (${v.preAllocatedVUs})` });
    if ('preAllocatedVUs' in v && v.preAllocatedVUs === 0 && (v.maxVUs ?? 0) === 0)
      ctx.addIssue({ code: 'custom', path: ['preAllocatedVUs'], message: 'preAllocatedVUs or maxVUs must be at least 1' });
  });
export type TExecutorConfig = z.infer<typeof ExecutorConfigSchema>;

const ThresholdInputSchema = z.union([
  z.string(),
  z.object({ threshold: z.string(), abortOnFail: z.boolean().default(false), delayAbortEval: DurationSchema.optional() }).strict(),
]);

const MixSchema = z
  .object(Object.fromEntries(SHOP_ACTIONS.map((a) => [a, z.number().min(0).default(0)])) as Record<TShopAction, z.ZodDefault<z.ZodNumber>>)
  .strict();

export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

/**
 * One request of a plain-HTTP scenario (any system under test, not the shop's
 * mix). `path`, header values and string values of `body` may hold generated
 * values, fresh in every iteration: `${uuid}`, `${randInt 1 500}` (a whole
 * number; `${randInt 1 20 2}` zero-pads to 2 digits), `${pick a b c}`, `${vu}`
 * (the VU's number across the whole test, distinct between segments). A body value that is exactly one `${randInt …}` is sent as a number.
 */
export const HttpRequestSchema = z
  .object({
    /** The k6 `name` tag (thresholds such as `http_req_duration{name:transfer}`). */
    name: z.string().regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, "_" and "-" only'),
    method: z.enum(HTTP_METHODS),
    path: z.string().startsWith('/'),
    headers: z.record(z.string(), z.string()).default({}),
    body: z.unknown().optional(),
    /** Relative weight; one weighted pick per iteration. @defaultValue 1 */
    weight: z.number().positive().default(1),
    /** `METHOD /route` as the service's route label shows it (SLOs, acknowledged writes). @defaultValue method and path */
    route: z
      .string()
      .regex(/^(GET|POST|PUT|PATCH|DELETE) \/\S*$/, 'expected "METHOD /path", e.g. "GET /transfers/:id"')
      .optional(),
    /** Statuses the `checks` metric counts as passed. @defaultValue [200, 201, 202, 204] */
    expect: z.array(Int.min(100).max(599)).min(1).default([200, 201, 202, 204]),
  })
  .strict();
export type THttpRequestDef = z.infer<typeof HttpRequestSchema>;

/**
 * Which responses acknowledge a write (a target file's `acknowledged`): the
 * history records the id at `id` of such a response, so the analysis can
 * confirm every acknowledged write exists after the run.
 */
export const AcknowledgedWriteSchema = z
  .object({
    route: z.string().regex(/^(GET|POST|PUT|PATCH|DELETE) \/\S*$/, 'expected "METHOD /path"'),
    status: z.array(Int.min(200).max(299)).min(1),
    id: z.string().regex(/^\$(\.[A-Za-z_][A-Za-z0-9_]*|\[\d+\])+$/, 'expected a JSON path like "$.transferId"'),
    /**
     * The request's own key, recorded with every attempt (acknowledged, failed or unknown), so a
     * write the client saw fail can be looked up after the run: `header <name>` (an idempotency
     * key) or a JSON path into the request body (`$.transferId`). @defaultValue none
     */
    key: WriteKeySchema.optional(),
    /** JSON paths of the acknowledging response whose values the history records (a target's `agree` compares them with the row). */
    record: z.array(z.string().regex(/^\$(\.[A-Za-z_][A-Za-z0-9_]*|\[\d+\])+$/, 'expected a JSON path like "$.totalCents"')).optional(),
  })
  .strict();
export type TAcknowledgedWrite = z.infer<typeof AcknowledgedWriteSchema>;

export const ScenarioSchema = z
  .object({
    /** k6 scenario name (also the `scenario` tag). */
    name: z.string().regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, "_" and "-" only'),
    description: z.string().optional(),
    /** Shop gateway; default SHOP_GATEWAY_URL. */
    baseUrl: z.url().optional(),
    setup: z
      .object({
        /** Users registered and logged in before the load (VU n uses user n mod users). */
        users: Int.min(0).max(10_000).default(10),
        /** Products with stock picked for view_product and checkout. */
        products: Int.min(0).max(1000).default(5),
      })
      .strict()
      .prefault({}),
    /** The shop's request kinds with relative weights; one weighted pick per iteration (or `requests`). */
    mix: MixSchema.prefault({}),
    /** Plain HTTP requests for any system under test, instead of the shop's `mix` (built-in engine only). */
    requests: z.array(HttpRequestSchema).min(1).optional(),
    /** Responses that acknowledge a write (with `requests`); the run adds its target file's. */
    acknowledged: z.array(AcknowledgedWriteSchema).default([]),
    checkout: z
      .object({ maxItems: Int.min(1).max(10).default(1), maxQty: Int.min(1).max(10).default(1) })
      .strict()
      .prefault({}),
    load: ExecutorConfigSchema,
    /**
     * Split the load into this many equal k6 execution segments (0,1/N,…,1),
     * each run by its own generator (a k6 process, a worker thread, a worker);
     * results are merged into one verdict. Absent = 1.
     */
    segments: Int.min(1).max(64).optional(),
    http: z
      .object({ timeout: atLeast(1, 'timeout').default('60s') })
      .strict()
      .prefault({}),
    thresholds: z.record(z.string(), z.array(ThresholdInputSchema).min(1)).default({}),
    tags: z.record(z.string().regex(/^[A-Za-z0-9_]+$/, 'tag names: letters, digits and "_"'), z.string()).default({}),
  })
  .strict()
  .superRefine((s, ctx) => {
    const mixWeight = Object.values(s.mix).reduce((a, w) => a + w, 0);
    if (!s.requests && mixWeight === 0) ctx.addIssue({ code: 'custom', path: ['mix'], message: 'at least one request weight must be > 0 (or give requests)' });
    if (s.requests && mixWeight > 0)
      ctx.addIssue({ code: 'custom', path: ['requests'], message: 'give either mix (the shop) or requests (plain HTTP), not both' });
    // the shop's setup serves its mix; a plain-HTTP scenario has none
    const needsUsers = !s.requests && (s.mix.checkout > 0 || s.mix.order_status > 0 || s.mix.cancel > 0);
    if (needsUsers && s.setup.users === 0)
      ctx.addIssue({ code: 'custom', path: ['setup', 'users'], message: 'checkout, order_status and cancel need at least one user' });
    if (!s.requests && (s.mix.checkout > 0 || s.mix.view_product > 0) && s.setup.products === 0)
      ctx.addIssue({ code: 'custom', path: ['setup', 'products'], message: 'checkout and view_product need at least one product' });
    for (const [key, list] of Object.entries(s.thresholds)) {
      let metric: string;
      try {
        metric = parseMetricSelector(key).metric;
      } catch (e) {
        ctx.addIssue({ code: 'custom', path: ['thresholds', key], message: (e as Error).message });
        continue;
      }
      const known = ENGINE_METRICS[metric];
      if (!known) {
        ctx.addIssue({ code: 'custom', path: ['thresholds', key], message: `unknown metric "${metric}" (known: ${Object.keys(ENGINE_METRICS).join(', ')})` });
        continue;
      }
      list.forEach((t, i) => {
        const src = typeof t === 'string' ? t : t.threshold;
        try {
          const expr = parseThresholdExpression(src);
          if (!aggAllowed(known.type, expr.agg))
            ctx.addIssue({ code: 'custom', path: ['thresholds', key, i], message: `"${expr.agg}" is not an aggregation of ${known.type} metric ${metric}` });
        } catch (e) {
          ctx.addIssue({ code: 'custom', path: ['thresholds', key, i], message: (e as Error).message });
        }
      });
    }
  });

export type TScenario = z.infer<typeof ScenarioSchema>;
/** The scenario as written, before defaults (what a YAML file holds). */
export type TScenarioInput = z.input<typeof ScenarioSchema>;

/** Parse scenario YAML text; AppError('VALIDATION') with field paths and lines on failure. */
export function parseScenario(text: string, filename = 'scenario.yaml'): TScenario {
  return parseYamlWith(ScenarioSchema, text, filename);
}

/** Read and parse a scenario file. */
export async function loadScenarioFile(file: string): Promise<TScenario> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new AppError('NOT_FOUND', `cannot read scenario file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return parseScenario(text, file);
}

/** Folder of the scenarios shipped with faultline. */
export const SCENARIOS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'scenarios');

/** A shipped scenario by name (`checkout-mix` → loadtests/scenarios/checkout-mix.yaml). */
export async function loadScenarioByName(name: string): Promise<TScenario> {
  if (!/^[A-Za-z0-9_-]+$/.test(name))
    throw new AppError('VALIDATION', 'invalid scenario name', { issues: [{ path: 'scenario', message: `"${name}": letters, digits, "_" and "-" only` }] });
  return loadScenarioFile(path.join(SCENARIOS_DIR, `${name}.yaml`));
}

/** CLI-style overrides applied to a scenario without mutating it. */
export interface TScenarioOverrides {
  /** New rate for constant-arrival-rate (iterations per timeUnit). */
  rate?: number;
  /** New duration for constant-arrival-rate / constant-vus. */
  duration?: string;
  /** VU cap: maxVUs of an arrival-rate executor (preAllocatedVUs capped to it), or the VUs of constant-vus. */
  vus?: number;
  baseUrl?: string;
}

/** Derive a scenario with overrides; AppError naming the flag when it does not apply. */
export function withOverrides(s: TScenario, o: TScenarioOverrides): TScenario {
  const load = { ...s.load } as Record<string, unknown>;
  if (o.rate !== undefined) {
    if (s.load.executor !== 'constant-arrival-rate')
      throw new AppError('VALIDATION', 'invalid flags', {
        issues: [{ path: 'rate', message: `--rate applies to constant-arrival-rate, not ${s.load.executor}` }],
      });
    load.rate = o.rate;
    // keep enough VUs for the new rate: scale the pools with it
    const factor = o.rate / s.load.rate;
    if (factor > 1) {
      load.preAllocatedVUs = Math.ceil(s.load.preAllocatedVUs * factor);
      if (s.load.maxVUs !== undefined) load.maxVUs = Math.ceil(s.load.maxVUs * factor);
    }
  }
  if (o.duration !== undefined) {
    if (s.load.executor !== 'constant-arrival-rate' && s.load.executor !== 'constant-vus')
      throw new AppError('VALIDATION', 'invalid flags', {
        issues: [{ path: 'duration', message: `--duration applies to constant executors, not ${s.load.executor} (edit its stages)` }],
      });
    load.duration = o.duration;
  }
  if (o.vus !== undefined) {
    if (s.load.executor === 'constant-arrival-rate' || s.load.executor === 'ramping-arrival-rate') {
      load.maxVUs = o.vus;
      load.preAllocatedVUs = Math.min(load.preAllocatedVUs as number, o.vus);
    } else if (s.load.executor === 'constant-vus') load.vus = o.vus;
    else
      throw new AppError('VALIDATION', 'invalid flags', {
        issues: [{ path: 'vus', message: `a VU override does not apply to ramping-vus (edit its stages)` }],
      });
  }
  const candidate = { ...s, load, ...(o.baseUrl !== undefined ? { baseUrl: o.baseUrl } : {}) };
  const r = ScenarioSchema.safeParse(candidate);
  if (!r.success)
    throw new AppError('VALIDATION', 'invalid flags', {
      issues: r.error.issues.map((i) => ({
        path: i.path
          .map(String)
          .join('.')
          .replace(/^load\./, '')
          .replace(/^baseUrl$/, 'base-url'),
        message: i.message,
      })),
    });
  return r.data;
}
