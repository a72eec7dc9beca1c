/**
 * The fault specification: one zod schema per fault type, joined in one
 * discriminated union on `type`. This is the contract shared by the
 * experiment file (embedded there), the CLI, the console and the runner.
 *
 * A spec is `{ type, target, params }`:
 * - network and dependency faults target an edge by proxy name
 *   (`orders->payments`, `orders->postgres`; `orders->payments#2` narrows to
 *   the proxy of one instance) and apply to every proxy of that edge;
 * - `partition` targets several edges at once (glob `*` allowed, e.g.
 *   `*->payments`);
 * - process faults target an instance id (`payments-0`), or a service for
 *   `kill_percentage`;
 * - HTTP faults target a service.
 *
 * Units are in the field names (`latencyMs`, `rateKBps` with Toxiproxy's
 * 1 KB = 1000 B) so a YAML reader never has to guess.
 */
import { z } from 'zod';

const MAX_MS = 3_600_000;

const ms = (what: string) =>
  z
    .number({ error: `${what} must be a number of milliseconds` })
    .int({ error: `${what} must be a whole number of milliseconds` })
    .min(0, { error: `${what} must be >= 0` })
    .max(MAX_MS, { error: `${what} must be <= ${MAX_MS} (one hour)` });

const positiveMs = (what: string) => ms(what).min(1, { error: `${what} must be > 0` });

/** Edge name as the supervisor names proxies: `<from>-><to>`, optionally `#<instance>`. */
export const EDGE_NAME_RE = /^[a-z0-9_.-]+->[a-z0-9_.-]+(#\d+)?$/i;
/** Edge pattern for partitions: an edge name where `*` matches any service. */
export const EDGE_PATTERN_RE = /^([a-z0-9_.-]+|\*)->([a-z0-9_.-]+|\*)$/i;
/** Instance id as the supervisor reports it: `<service>-<index>`. */
export const INSTANCE_ID_RE = /^[a-z0-9_.]+(-[a-z0-9_.]+)*-\d+$/i;
export const SERVICE_NAME_RE = /^[a-z0-9_.-]+$/i;

const edgeTarget = z
  .string({ error: 'target must be an edge name like "orders->payments"' })
  .regex(EDGE_NAME_RE, { error: 'target must be an edge name like "orders->payments" or "orders->payments#1"' });
const instanceTarget = z
  .string({ error: 'target must be an instance id like "payments-0"' })
  .regex(INSTANCE_ID_RE, { error: 'target must be an instance id like "payments-0"' });
const serviceTarget = z
  .string({ error: 'target must be a service name like "payments"' })
  .regex(SERVICE_NAME_RE, { error: 'target must be a service name like "payments"' });

const percentage = z
  .number({ error: 'percentage must be a number' })
  .gt(0, { error: 'percentage must be > 0' })
  .max(100, { error: 'percentage must be <= 100' });

/** Which direction of a connection a toxic acts on; `both` adds one toxic per direction. */
export const StreamSchema = z.enum(['upstream', 'downstream', 'both'], {
  error: 'stream must be one of upstream, downstream, both',
});

/** Parameters every toxic-based fault accepts. */
const toxicCommon = {
  /**
   * `downstream` = server→client (Toxiproxy's default), `upstream` = client→server.
   * @defaultValue 'downstream'
   */
  stream: StreamSchema.default('downstream'),
  /**
   * Probability, rolled per connection, that the toxic affects it.
   * @defaultValue 1
   */
  toxicity: z
    .number({ error: 'toxicity must be a number between 0 and 1' })
    .min(0, { error: 'toxicity must be >= 0' })
    .max(1, { error: 'toxicity must be <= 1' })
    .default(1),
};

const params = <T extends z.ZodRawShape>(shape: T) =>
  z.strictObject(shape, {
    error: (iss) => (iss.code === 'unrecognized_keys' ? `unknown parameter ${iss.keys.map((k) => `"${k}"`).join(', ')}` : 'params must be an object'),
  });
/** Params object that may be omitted entirely because every field has a default. */
const optionalParams = <T extends z.ZodRawShape>(shape: T) => z.preprocess((v) => (v === undefined || v === null ? {} : v), params(shape));

export const LatencySpecSchema = z.strictObject({
  type: z.literal('latency'),
  target: edgeTarget,
  params: params({ latencyMs: ms('latencyMs'), jitterMs: ms('jitterMs').default(0), ...toxicCommon }),
});

export const JitterSpecSchema = z.strictObject({
  type: z.literal('jitter'),
  target: edgeTarget,
  params: params({
    jitterMs: positiveMs('jitterMs'),
    /** Base delay; when omitted it equals `jitterMs`, so the added delay is uniform in [0, 2·jitter). */
    latencyMs: ms('latencyMs').optional(),
    ...toxicCommon,
  }),
});

export const BandwidthSpecSchema = z.strictObject({
  type: z.literal('bandwidth'),
  target: edgeTarget,
  params: params({
    rateKBps: z
      .number({ error: 'rateKBps must be a number (KB/s, 1 KB = 1000 B)' })
      .int({ error: 'rateKBps must be a whole number' })
      // Toxiproxy stalls forever at rate 0 and panics below it: refuse both.
      .min(1, { error: 'rateKBps must be > 0 (0 would stall every byte; use blackhole for that)' }),
    ...toxicCommon,
  }),
});

export const TimeoutSpecSchema = z.strictObject({
  type: z.literal('timeout'),
  target: edgeTarget,
  params: optionalParams({
    /** Close the connection after this long without data; 0 holds it open forever. @defaultValue 0 */
    timeoutMs: ms('timeoutMs').default(0),
    ...toxicCommon,
  }),
});

export const BlackholeSpecSchema = z.strictObject({
  type: z.literal('blackhole'),
  target: edgeTarget,
  params: optionalParams({ ...toxicCommon, stream: StreamSchema.default('both') }),
});

export const ResetPeerSpecSchema = z.strictObject({
  type: z.literal('reset_peer'),
  target: edgeTarget,
  params: optionalParams({ timeoutMs: ms('timeoutMs').default(0), ...toxicCommon }),
});

export const SlowCloseSpecSchema = z.strictObject({
  type: z.literal('slow_close'),
  target: edgeTarget,
  params: params({ delayMs: positiveMs('delayMs'), ...toxicCommon }),
});

export const LimitDataSpecSchema = z.strictObject({
  type: z.literal('limit_data'),
  target: edgeTarget,
  params: params({
    bytes: z.number({ error: 'bytes must be a number' }).int({ error: 'bytes must be a whole number' }).min(0, { error: 'bytes must be >= 0' }),
    ...toxicCommon,
  }),
});

export const EdgeDownSpecSchema = z.strictObject({
  type: z.literal('edge_down'),
  target: edgeTarget,
  params: optionalParams({}),
});

export const PartitionSpecSchema = z.strictObject({
  type: z.literal('partition'),
  target: z
    .array(
      z.string({ error: 'each partition target must be an edge name' }).regex(EDGE_PATTERN_RE, {
        error: 'each partition target must be an edge name like "orders->payments" (* matches any service)',
      }),
      { error: 'target must be a list of edges, e.g. ["orders->payments", "*->postgres"]' },
    )
    .min(1, { error: 'target must list at least one edge' }),
  params: optionalParams({
    /**
     * `blackhole`: connections stay open but no byte passes in either
     * direction; `down`: the proxies refuse connections.
     * @defaultValue 'blackhole'
     */
    mode: z.enum(['blackhole', 'down'], { error: 'mode must be blackhole or down' }).default('blackhole'),
  }),
});

export const KillSpecSchema = z.strictObject({
  type: z.literal('kill'),
  target: instanceTarget,
  params: optionalParams({
    /** Keep the instance down this long before the supervisor restarts it; omitted = restart at once. */
    holdMs: ms('holdMs').optional(),
  }),
});

export const KillPercentageSpecSchema = z.strictObject({
  type: z.literal('kill_percentage'),
  target: serviceTarget,
  params: params({
    /** Share of the service's running instances to SIGKILL, rounded up (at least one). */
    percentage,
    holdMs: ms('holdMs').optional(),
  }),
});

export const PauseSpecSchema = z.strictObject({
  type: z.literal('pause'),
  target: instanceTarget,
  params: optionalParams({}),
});

export const RestartSpecSchema = z.strictObject({
  type: z.literal('restart'),
  target: instanceTarget,
  params: optionalParams({}),
});

const httpMethod = z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE'], {
  error: 'method must be one of GET, POST, PUT, PATCH, DELETE',
});
const httpRoute = z
  .string({ error: 'route must be a path like "/checkout"' })
  .regex(/^\/\S*$/, { error: 'route must be a path starting with "/", e.g. "/checkout" or "/orders/:id"' });

export const HttpAbortSpecSchema = z.strictObject({
  type: z.literal('http_abort'),
  target: serviceTarget,
  params: params({
    /** Route pattern as the service registers it; omitted = every route. */
    route: httpRoute.optional(),
    method: httpMethod.optional(),
    /** @defaultValue 503 */
    status: z
      .number({ error: 'status must be an HTTP status code' })
      .int({ error: 'status must be a whole number' })
      .min(400, { error: 'status must be an error status (400-599)' })
      .max(599, { error: 'status must be an error status (400-599)' })
      .default(503),
    /** @defaultValue 100 */
    percentage: percentage.default(100),
  }),
});

export const HttpDelaySpecSchema = z.strictObject({
  type: z.literal('http_delay'),
  target: serviceTarget,
  params: params({
    route: httpRoute.optional(),
    method: httpMethod.optional(),
    delayMs: positiveMs('delayMs'),
    /** @defaultValue 100 */
    percentage: percentage.default(100),
    /**
     * `request`: the request waits before the handler runs; `response`: the
     * work is done but the answer is late (what makes a caller time out and
     * retry a call that already succeeded).
     * @defaultValue 'request'
     */
    at: z.enum(['request', 'response'], { error: 'at must be request or response' }).default('request'),
  }),
});

export const FAULT_SPEC_SCHEMAS = [
  LatencySpecSchema,
  JitterSpecSchema,
  BandwidthSpecSchema,
  TimeoutSpecSchema,
  BlackholeSpecSchema,
  ResetPeerSpecSchema,
  SlowCloseSpecSchema,
  LimitDataSpecSchema,
  EdgeDownSpecSchema,
  PartitionSpecSchema,
  KillSpecSchema,
  KillPercentageSpecSchema,
  PauseSpecSchema,
  RestartSpecSchema,
  HttpAbortSpecSchema,
  HttpDelaySpecSchema,
] as const;

export const FAULT_TYPES = FAULT_SPEC_SCHEMAS.map((s) => s.shape.type.value);

/** Any fault: `{ type, target, params }`, discriminated on `type`. */
export const FaultSpecSchema = z.discriminatedUnion('type', FAULT_SPEC_SCHEMAS, {
  error: (iss) => (iss.code === 'invalid_union' || iss.code === 'invalid_type' ? `type must be one of ${FAULT_TYPES.join(', ')}` : undefined),
});

/** A fault as written (defaults not yet applied). */
export type TFaultSpecInput = z.input<typeof FaultSpecSchema>;
/** A validated fault with defaults filled in. */
export type TFaultSpec = z.infer<typeof FaultSpecSchema>;
export type TFaultType = TFaultSpec['type'];
/** The spec of one fault type. */
export type TFaultSpecOf<T extends TFaultType> = Extract<TFaultSpec, { type: T }>;

export const NETWORK_FAULT_TYPES = [
  'latency',
  'jitter',
  'bandwidth',
  'timeout',
  'blackhole',
  'reset_peer',
  'slow_close',
  'limit_data',
  'edge_down',
  'partition',
] as const satisfies readonly TFaultType[];
export const PROCESS_FAULT_TYPES = ['kill', 'kill_percentage', 'pause', 'restart'] as const satisfies readonly TFaultType[];
export const HTTP_FAULT_TYPES = ['http_abort', 'http_delay'] as const satisfies readonly TFaultType[];
