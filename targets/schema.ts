/**
 * The target file (`targets/<name>.yaml`): everything faultline knows about a
 * system under test, in terms its owners already have — an entry URL, the
 * Toxiproxy proxies in front of its dependencies, where its metrics and logs
 * are, how to stop and start its processes, and the SQL that says whether its
 * data is consistent. One zod schema, shared by the CLI, the console and the
 * workers; types are inferred from it.
 *
 *   entry ─────────▶ load (built-in engine / k6 BASE_URL)
 *   edges ─────────▶ network faults (Toxiproxy API, real or faultline's own)
 *   processes ─────▶ kill / pause / resume / restart
 *   metrics ───────▶ server-side SLOs (request histogram), breaker timelines
 *   logs ──────────▶ log collector, violation trails
 *   databases + invariants + acknowledged + settled ─▶ consistency verdicts
 *
 * String values may name environment variables: `${SHOP_GATEWAY_URL}` or
 * `${SHOP_GATEWAY_URL:-http://127.0.0.1:8080}`; an unset variable without a
 * default is an error at that field. The file is configuration: never mutate
 * a parsed target (STYLE.md).
 */
import { z } from 'zod';
import { FAULTLINE_DURATION, durationError, parseDuration } from '../core/duration.js';
import { WriteKeySchema } from '../core/write-key.js';

/** Environment variables by name (process.env, or a test's own). */
export type TEnv = Record<string, string | undefined>;

const VAR = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/** `${VAR}` / `${VAR:-default}` replaced from `env`; the names of unset variables without a default. */
export function interpolateEnv(text: string, env: TEnv = process.env): { value: string; missing: string[] } {
  const missing: string[] = [];
  const value = text.replace(VAR, (_m, name: string, def: string | undefined) => {
    const v = env[name];
    if (v !== undefined && v !== '') return v;
    if (def !== undefined) return def;
    missing.push(name);
    return '';
  });
  return { value, missing };
}

/** The environment a file is being parsed with (parseWithEnv sets it around one synchronous parse). */
let parseEnv: TEnv | undefined;

/** Run a synchronous parse of a target file with `env` as the environment its `${VAR}`s read. */
export function parseWithEnv<T>(env: TEnv, parse: () => T): T {
  const before = parseEnv;
  parseEnv = env;
  try {
    return parse();
  } finally {
    parseEnv = before;
  }
}

/** A string that may name environment variables (resolved when the file is parsed). */
const EnvString = z.string().transform((s, ctx) => {
  const { value, missing } = interpolateEnv(s, parseEnv ?? process.env);
  if (missing.length) {
    ctx.addIssue({ code: 'custom', message: `environment variable ${missing.join(', ')} is not set and has no default (write \${${missing[0]}:-value})` });
    return z.NEVER;
  }
  return value;
});

const HttpUrl = EnvString.pipe(z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }));
const PostgresUrl = EnvString.pipe(z.string().regex(/^postgres(ql)?:\/\//, 'expected a postgres:// connection string'));
const HostPort = EnvString.pipe(z.string().regex(/^[A-Za-z0-9_.-]+:\d{1,5}$|^\[[0-9a-fA-F:]+\]:\d{1,5}$/, 'expected host:port'));
const Name = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]*$/, 'use lowercase letters, digits, "-" and "_"')
  .max(80);
/** An edge is named `<from>-><to>`, as Toxiproxy proxies in faultline are. */
export const EdgeNameSchema = z.string().regex(/^[a-z0-9][a-z0-9_-]*->[a-z0-9][a-z0-9_-]*(#\d+)?$/, 'expected "<from>-><to>", e.g. "api->postgres"');
const Duration = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const ms = parseDuration(v, FAULTLINE_DURATION);
  if (ms === undefined || ms <= 0) {
    ctx.addIssue({ code: 'custom', message: durationError(v) });
    return z.NEVER;
  }
  return ms;
});
/** `POST /transfers`: method, space, path as the service's route label shows it. */
const Route = z.string().regex(/^(GET|POST|PUT|PATCH|DELETE) \/\S*$/, 'expected "METHOD /path", e.g. "POST /checkout"');
/** Values the load engine generates in every iteration (loadtests' plain-HTTP requests); not capture names. */
const GENERATED_VALUES = ['uuid', 'randInt', 'pick', 'vu'] as const;
/** A JSON path into a response body: `$.orderId`, `$.data.id`, `$.items[0].id`. */
const JsonPath = z.string().regex(/^\$(\.[A-Za-z_][A-Za-z0-9_]*|\[\d+\])+$/, 'expected a JSON path like "$.orderId"');

export const EntrySchema = z
  .object({
    /** Base URL the load goes to (the built-in engine's base, k6's BASE_URL). */
    url: HttpUrl,
    /** Headers on every request (values may use `${name}` captured by setup, and the scenario's generated values). */
    headers: z.record(z.string(), z.string()).default({}),
    /**
     * Requests made once before the load (k6's setup()), e.g. a login whose token later requests use:
     * each step's `capture` takes values from its JSON response, used as `${name}` by later steps,
     * `headers` above and the scenario's requests (path, headers, body) in every VU and segment.
     */
    setup: z
      .array(
        z
          .object({
            name: Name,
            method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']),
            path: z.string().startsWith('/'),
            headers: z.record(z.string(), z.string()).default({}),
            body: z.unknown().optional(),
            /** Statuses that count as success. @defaultValue [200, 201, 204] */
            expect_status: z.array(z.number().int().min(100).max(599)).default([200, 201, 204]),
            /** Values taken from the response for `${name}` in later headers, paths and bodies. */
            capture: z.record(z.string().regex(/^[a-zA-Z_]\w*$/), JsonPath).default({}),
          })
          .strict(),
      )
      .default([]),
    /** Answers `2xx` when the system is up: the steady-state probe. @defaultValue GET / */
    health: z.string().startsWith('/').default('/'),
  })
  .strict()
  .superRefine((e, ctx) => {
    // `${name}`: a value captured by an earlier step, or one the load engine generates
    const known = new Set<string>(GENERATED_VALUES);
    const refs = (v: unknown, path: (string | number)[], where: string) => {
      if (typeof v === 'string') {
        for (const [, name] of v.matchAll(/\$\{([A-Za-z_]\w*)\}/g))
          if (!known.has(name!))
            ctx.addIssue({ code: 'custom', path, message: `\${${name}} is not captured ${where} (capture: {${name}: $.path} in an entry.setup step)` });
      } else if (Array.isArray(v)) v.forEach((x, i) => refs(x, [...path, i], where));
      else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) refs(x, [...path, k], where);
    };
    e.setup.forEach((step, i) => {
      refs(step.path, ['setup', i, 'path'], 'by an earlier step');
      refs(step.headers, ['setup', i, 'headers'], 'by an earlier step');
      refs(step.body, ['setup', i, 'body'], 'by an earlier step');
      for (const name of Object.keys(step.capture)) {
        if ((GENERATED_VALUES as readonly string[]).includes(name))
          ctx.addIssue({
            code: 'custom',
            path: ['setup', i, 'capture', name],
            message: `"${name}" is a generated value (${GENERATED_VALUES.join(', ')}); pick another name`,
          });
        else if (known.has(name)) ctx.addIssue({ code: 'custom', path: ['setup', i, 'capture', name], message: `"${name}" is captured twice` });
        known.add(name);
      }
    });
    refs(e.headers, ['headers'], 'by entry.setup');
  });

export const ProxySchema = z
  .object({
    name: EdgeNameSchema,
    /** What the edge leads to; informs which faults make sense. @defaultValue service */
    kind: z.enum(['service', 'postgres', 'redis', 'other']).default('service'),
    /** With `upstream`: faultline creates the proxy at the start of a run and removes it at the end. */
    listen: HostPort.optional(),
    upstream: HostPort.optional(),
  })
  .strict()
  .superRefine((p, ctx) => {
    if ((p.listen === undefined) !== (p.upstream === undefined))
      ctx.addIssue({
        code: 'custom',
        path: [p.listen === undefined ? 'listen' : 'upstream'],
        message: 'give both listen and upstream (faultline creates the proxy), or neither (it exists already)',
      });
  });

export const EdgesSchema = z
  .object({
    /** Toxiproxy API (the real one or `faultline proxy`). */
    toxiproxy: HttpUrl,
    /**
     * `listed`: exactly the proxies below. `supervisor`: the proxies a faultline
     * supervisor reports at processes.url (the bundled shop).
     * @defaultValue listed
     */
    source: z.enum(['listed', 'supervisor']).default('listed'),
    proxies: z.array(ProxySchema).default([]),
  })
  .strict()
  .superRefine((e, ctx) => {
    if (e.source === 'listed' && e.proxies.length === 0)
      ctx.addIssue({ code: 'custom', path: ['proxies'], message: 'list at least one proxy (or use source: supervisor)' });
    const seen = new Set<string>();
    e.proxies.forEach((p, i) => {
      if (seen.has(p.name)) ctx.addIssue({ code: 'custom', path: ['proxies', i, 'name'], message: `duplicate proxy "${p.name}"` });
      seen.add(p.name);
    });
  });

/** Placeholders a process command may use. */
export const COMMAND_PLACEHOLDERS = ['{instance}', '{pid}', '{service}'] as const;
const Command = EnvString.pipe(
  z
    .string()
    .min(1)
    .max(500)
    .refine((c) => !/[\n\r]/.test(c), 'one line'),
);

export const ProcessesSchema = z.discriminatedUnion('kind', [
  z
    .object({
      /** A faultline supervisor (the shop's): instances, kill/pause/resume/restart and HTTP faults over its admin API. */
      kind: z.literal('supervisor'),
      url: HttpUrl,
    })
    .strict(),
  z
    .object({
      /** Commands you write, run only from this file (never from an API body), each undone by the fault ledger. */
      kind: z.literal('commands'),
      instances: z
        .array(
          z
            .object({
              id: Name,
              service: Name,
              /** File holding the instance's pid, for `{pid}`. */
              pid_file: EnvString.optional(),
            })
            .strict(),
        )
        .min(1),
      commands: z
        .object({
          kill: Command.optional(),
          pause: Command.optional(),
          resume: Command.optional(),
          restart: Command.optional(),
          start: Command.optional(),
        })
        .strict(),
      /** Longest a command may take. @defaultValue 10s */
      timeout: Duration.default(10_000),
    })
    .strict()
    .superRefine((p, ctx) => {
      if (p.commands.pause && !p.commands.resume)
        ctx.addIssue({ code: 'custom', path: ['commands', 'resume'], message: 'required with pause: a paused instance must be resumable' });
      if (p.commands.kill && !p.commands.start && !p.commands.restart)
        ctx.addIssue({ code: 'custom', path: ['commands', 'start'], message: 'kill needs start or restart: faultline must bring a killed instance back' });
    }),
]);

/**
 * The breakers the target reports, by the name its metric labels them with; given, an
 * experiment's breaker expectations must name one of them (else any `<from>-><to>` name is accepted).
 */
const BreakerNames = z.array(z.string().min(1)).min(1).optional();

/** Breaker state read from a metric: faultline's own shape and Resilience4j's are presets. */
export const BreakersSchema = z.union([
  z.object({ preset: z.enum(['faultline', 'resilience4j']), names: BreakerNames }).strict(),
  z
    .object({
      metric: z.string().regex(/^[a-zA-Z_:][a-zA-Z0-9_:]*$/),
      names: BreakerNames,
      /** Label that names the breaker. */
      name_label: z.string().min(1),
      /**
       * `value`: the sample's value is the state (`states` maps values).
       * `label`: one sample per state, `state_label` names it, value 1 marks the current one (Resilience4j).
       */
      encoding: z.enum(['value', 'label']),
      state_label: z.string().optional(),
      /** Value (encoding value) or label value (encoding label) of each state. */
      states: z
        .object({ closed: z.union([z.number(), z.string()]), open: z.union([z.number(), z.string()]), half_open: z.union([z.number(), z.string()]) })
        .strict(),
      /** Further values read as open (calls rejected, e.g. `forced_open`) or closed (calls let through, e.g. `disabled`). */
      also: z
        .object({ open: z.array(z.union([z.number(), z.string()])).optional(), closed: z.array(z.union([z.number(), z.string()])).optional() })
        .strict()
        .optional(),
    })
    .strict()
    .superRefine((b, ctx) => {
      if (b.encoding === 'label' && !b.state_label) ctx.addIssue({ code: 'custom', path: ['state_label'], message: 'required when encoding is label' });
    }),
]);

/** The presets, spelled out (what `preset: resilience4j` means). */
export const BREAKER_PRESETS = {
  faultline: { metric: 'circuit_breaker_state', name_label: 'breaker', encoding: 'value', states: { closed: 0, open: 1, half_open: 2 } },
  resilience4j: {
    metric: 'resilience4j_circuitbreaker_state',
    name_label: 'name',
    encoding: 'label',
    state_label: 'state',
    states: { closed: 'closed', open: 'open', half_open: 'half_open' },
    // forced_open rejects every call; disabled and metrics_only let every call through
    also: { open: ['forced_open'], closed: ['disabled', 'metrics_only'] },
  },
} as const;

export const MetricsSchema = z
  .object({
    /** `/metrics` URLs to scrape. */
    scrape: z.array(HttpUrl).default([]),
    /** A Prometheus HTTP service-discovery URL listing the targets to scrape (how the shop exposes itself). */
    http_sd: HttpUrl.optional(),
    /** Or a Prometheus server, queried over its HTTP API for the run window. */
    prometheus: HttpUrl.optional(),
    /** The request-duration histogram server-side SLOs read. */
    requests: z
      .object({
        histogram: z.string().regex(/^[a-zA-Z_:][a-zA-Z0-9_:]*$/),
        route_label: z.string().min(1),
        method_label: z.string().min(1).optional(),
        status_label: z.string().min(1),
        /** Unit of the histogram's `le` buckets. @defaultValue seconds */
        unit: z.enum(['seconds', 'milliseconds']).default('seconds'),
        /**
         * The service whose histogram is the server side of an SLO — the entry service, when the
         * system's services share route names (the shop's gateway and orders both serve `POST /checkout`);
         * matched against a series' `service` label, or the http_sd target's. @defaultValue the target's name
         */
        service: z.string().min(1).optional(),
      })
      .strict()
      .optional(),
    breakers: BreakersSchema.optional(),
    /** More metric families to store for the run (its charts), beyond the request histogram and the breaker metric. */
    keep: z.array(z.string().regex(/^[a-zA-Z_:][a-zA-Z0-9_:]*$/, 'a Prometheus metric family name')).default([]),
  })
  .strict()
  .superRefine((m, ctx) => {
    if (m.scrape.length === 0 && !m.http_sd && !m.prometheus)
      ctx.addIssue({ code: 'custom', path: ['scrape'], message: 'give scrape URLs, http_sd or prometheus' });
  });

/**
 * The field (or fields) of a log line that carry the ids violations name: a request id, an
 * entity id (`[requestId, orderId]`). A line is on a violation's trail when one of them equals
 * one of its ids. @defaultValue requestId
 */
const IdField = z
  .union([z.string().min(1), z.array(z.string().min(1)).min(1)])
  .default('requestId')
  .transform((f) => (typeof f === 'string' ? [f] : f));

/** A target's log id fields (`logs.id_field`, always a list after parsing). */
export function logIdFields(l: { id_field?: string | readonly string[] } | undefined): readonly string[] {
  const f = l?.id_field;
  if (typeof f === 'string') return [f];
  return f?.length ? f : ['requestId'];
}

export const LogsSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('supervisor'), url: HttpUrl, id_field: IdField }).strict(),
  z
    .object({
      kind: z.literal('elasticsearch'),
      url: HttpUrl,
      index: z.string().min(1),
      query: z.string().optional(),
      /** The documents' time field (the run window is a range on it). @defaultValue @timestamp */
      time_field: z.string().min(1).default('@timestamp'),
      id_field: IdField,
    })
    .strict(),
  z.object({ kind: z.literal('file'), path: EnvString, id_field: IdField }).strict(),
]);

export const DatabaseSchema = z
  .object({
    /** Environment variable holding the connection string (never the password in the file). */
    url_env: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'an environment variable name, e.g. SHOP_DATABASE_URL'),
    /** Used when the variable is unset (local setups). */
    default: PostgresUrl.optional(),
  })
  .strict();

/** The query with its string literals emptied: words and semicolons inside '…' are text, not SQL. */
const withoutLiterals = (q: string) => q.replace(/'[^']*'/g, "''");
/** Statements an invariant may not contain: invariants run read-only and return the offending rows. */
const WRITES = /\b(insert|update|delete|merge|truncate|drop|alter|create|grant|revoke|copy|vacuum|call|do)\b/i;
const ReadOnlySql = z
  .string()
  .min(1)
  .max(20_000)
  .refine((q) => /^\s*(select|with)\b/i.test(q), 'must be one SELECT (or WITH … SELECT) returning the offending rows')
  .refine((q) => !WRITES.test(withoutLiterals(q)), 'must only read: no INSERT/UPDATE/DELETE/DDL')
  .refine((q) => !/;\s*\S/.test(withoutLiterals(q)), 'one statement only');

export const InvariantSchema = z
  .object({
    name: Name,
    database: Name,
    description: z.string().min(1),
    sql: ReadOnlySql,
    /** How one offending row reads in the report: `product {product_id}: {available} available`. @defaultValue the row as JSON */
    show: z.string().optional(),
    /**
     * How many things the invariant looked at (one number: `SELECT count(*) FROM accounts`), shown as
     * its "checked" count, in the same snapshot. @defaultValue the number of offending rows
     */
    count: ReadOnlySql.optional(),
    /**
     * Columns that identify one finding across runs (e.g. `[kind, product_id]`): a row found
     * before the load with the same key is pre-existing. @defaultValue the whole row (any change counts as new)
     */
    key: z
      .array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a column name of the query'))
      .min(1)
      .optional(),
    /**
     * A numeric column sizing the finding (units off, captures): a pre-existing key whose
     * measure grew is this run's finding again (it made it worse). Needs `key`.
     */
    measure: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a column name of the query')
      .optional(),
  })
  .strict()
  .refine((i) => !i.measure || i.key, { path: ['measure'], message: 'measure sizes a finding named by key: add key (the columns that identify it)' });

/** An SQL of the history check with its parameters; its database defaults to confirm's. */
function HistorySqlSchema(params: readonly string[]) {
  return z
    .object({
      database: Name.optional(),
      sql: ReadOnlySql.refine((q) => params.every((p) => q.includes(p)), `use ${params.join(' and ')} (see docs/targets.md)`),
      /** How to show each row (`transfer {id}: {status}`). @defaultValue the row as JSON */
      show: z.string().optional(),
    })
    .strict();
}

export const AcknowledgedSchema = z
  .object({
    /** Which responses acknowledge a write. */
    route: Route,
    status: z.array(z.number().int().min(200).max(299)).min(1),
    /** Where the written entity's id is in the response body. */
    id: JsonPath,
    /**
     * How to confirm each acknowledged id exists after the run: an SQL whose first column is the id
     * (and, with `final_states`, a `state` column), or a GET.
     */
    confirm: z.union([
      z.object({ database: Name, sql: ReadOnlySql.refine((q) => q.includes('$1'), 'use $1 for the array of ids (e.g. WHERE id = ANY($1))') }).strict(),
      z.object({ get: z.string().regex(/\{id\}/, 'a path with {id}, e.g. /orders/{id}'), expect_status: z.array(z.number().int()).default([200]) }).strict(),
    ]),
    /**
     * The states an acknowledged write may end in (the `state` column of `confirm.sql`): an acknowledged
     * order that ends `cancelled` by itself did not stick. @defaultValue any state: existing is enough
     */
    final_states: z.array(z.string().min(1)).min(1).optional(),
    /**
     * Routes of the client's own later operations that may move a write out of `final_states`
     * (`POST /orders/:id/cancel`): an operation on one of them naming the id (acknowledged or
     * indeterminate) lets it end in any state.
     */
    changed_by: z.array(Route).default([]),
    /**
     * What the write's row must agree with: a column of `confirm.sql` → the JSON path of the
     * acknowledging response it must equal (`total_cents: $.totalCents`). The load records those
     * response values; a row that says otherwise is a violation (`ack-mismatch`).
     */
    agree: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a column name of confirm.sql'), JsonPath).optional(),
    /**
     * The request's own key (`header Idempotency-Key`, or `$.transferId` in its body): the load
     * records it with every attempt, so `failed` and `unknown` can look writes up by it.
     */
    key: WriteKeySchema.optional(),
    /**
     * The other half of the Jepsen set check: a write the client was told failed (a 4xx) must not
     * have happened. An SQL over their keys ($1, text[]) returning each that did; every row is a
     * violation (invariant `history-consistent`).
     */
    failed: HistorySqlSchema(['$1']).optional(),
    /**
     * Writes made during the run that the client never sent: an SQL over the keys it sent ($1,
     * text[]) and the load's start ($2, epoch ms), returning each such write; every row is a
     * violation (invariant `history-consistent`).
     */
    unknown: HistorySqlSchema(['$1', '$2']).optional(),
  })
  .strict()
  .refine((a) => !a.final_states || 'database' in a.confirm, {
    path: ['final_states'],
    message: 'final states are read from confirm.sql (its state column): confirm with database + sql, not get',
  })
  .refine((a) => !a.agree || 'database' in a.confirm, {
    path: ['agree'],
    message: 'agree compares columns of confirm.sql: confirm with database + sql, not get',
  })
  .refine((a) => a.key || (!a.failed && !a.unknown), {
    path: ['key'],
    message: 'failed and unknown look writes up by the request\'s own key: add key (e.g. "header Idempotency-Key")',
  })
  .refine((a) => 'database' in a.confirm || [a.failed, a.unknown].every((h) => !h || h.database), {
    path: ['failed'],
    message: 'name the database of failed / unknown (confirm reads none: it is a GET)',
  });

/** The acknowledged write's database for `failed` / `unknown`: their own, else confirm's. */
export function historyDatabase(a: TTargetAcknowledged, q: { database?: string | undefined }): string | undefined {
  return q.database ?? ('database' in a.confirm ? a.confirm.database : undefined);
}

/**
 * One query of a violation's trail: what the system's own tables say happened to the ids a
 * violation names ($1, text[]), one step per row — an `at` column (when; null sorts last) and a
 * `text` column (what) — shown beside the run's log lines.
 */
export const TrailSchema = z
  .object({
    database: Name,
    sql: ReadOnlySql.refine((q) => q.includes('$1'), 'use $1 for the array of ids the violation names (e.g. WHERE order_id::text = ANY($1))'),
    /** Where the steps come from, as the trail shows it (`orders.sagas`). @defaultValue trails.<n> */
    source: z.string().min(1).max(80).optional(),
  })
  .strict();

export const SettledSchema = z
  .object({
    database: Name,
    /** Returns one row per thing still in flight; settled when it returns none. */
    sql: ReadOnlySql,
    /** Longest to wait for it. @defaultValue 60s */
    max: Duration.default(60_000),
  })
  .strict();

export const TargetSchema = z
  .object({
    name: Name,
    description: z.string().min(1),
    entry: EntrySchema,
    edges: EdgesSchema.optional(),
    processes: ProcessesSchema.optional(),
    metrics: MetricsSchema.optional(),
    logs: LogsSchema.optional(),
    databases: z.record(Name, DatabaseSchema).default({}),
    invariants: z.array(InvariantSchema).default([]),
    acknowledged: z.array(AcknowledgedSchema).default([]),
    /** Queries whose rows explain a violation's ids (its trail), beside the log lines. */
    trails: z.array(TrailSchema).default([]),
    settled: SettledSchema.optional(),
  })
  .strict()
  .superRefine((t, ctx) => {
    const db = (name: string, path: (string | number)[]) => {
      if (!(name in t.databases))
        ctx.addIssue({ code: 'custom', path, message: `no database "${name}" in databases (known: ${Object.keys(t.databases).join(', ') || 'none'})` });
    };
    const names = new Set<string>();
    t.invariants.forEach((inv, i) => {
      if (names.has(inv.name)) ctx.addIssue({ code: 'custom', path: ['invariants', i, 'name'], message: `duplicate invariant "${inv.name}"` });
      names.add(inv.name);
      db(inv.database, ['invariants', i, 'database']);
    });
    t.acknowledged.forEach((a, i) => {
      if ('database' in a.confirm) db(a.confirm.database, ['acknowledged', i, 'confirm', 'database']);
      if (a.failed?.database) db(a.failed.database, ['acknowledged', i, 'failed', 'database']);
      if (a.unknown?.database) db(a.unknown.database, ['acknowledged', i, 'unknown', 'database']);
    });
    t.trails.forEach((q, i) => db(q.database, ['trails', i, 'database']));
    if (t.settled) db(t.settled.database, ['settled', 'database']);
    if (t.edges?.source === 'supervisor' && t.processes?.kind !== 'supervisor')
      ctx.addIssue({
        code: 'custom',
        path: ['edges', 'source'],
        message: 'source: supervisor needs processes.kind: supervisor (its admin API lists the proxies)',
      });
  });

export type TTarget = z.infer<typeof TargetSchema>;
export type TTargetInput = z.input<typeof TargetSchema>;
export type TTargetProxy = z.infer<typeof ProxySchema>;
export type TTargetProcesses = z.infer<typeof ProcessesSchema>;
export type TTargetMetrics = z.infer<typeof MetricsSchema>;
export type TTargetBreakers = z.infer<typeof BreakersSchema>;
export type TTargetInvariant = z.infer<typeof InvariantSchema>;
export type TTargetAcknowledged = z.infer<typeof AcknowledgedSchema>;
export type TTargetTrail = z.infer<typeof TrailSchema>;

/** The breaker mapping with a preset spelled out (and the file's `names`, when it lists them). */
export function breakerMapping(b: TTargetBreakers) {
  return 'preset' in b ? { ...BREAKER_PRESETS[b.preset], ...(b.names ? { names: b.names } : {}) } : b;
}

/** The connection string of a named database: its variable, else its default; undefined when neither. */
export function databaseUrl(t: TTarget, name: string, env: TEnv = process.env): string | undefined {
  const d = t.databases[name];
  if (!d) return undefined;
  return env[d.url_env] || d.default;
}

/**
 * The edges of a target's listed proxies as `{ name, from, to }` (`from->to` names, per-instance
 * `#n` suffixes folded): what the nemesis draws from and the console draws; none when the edges
 * are a supervisor's (known only live).
 */
export function listedEdges(t: Pick<TTarget, 'edges'>): { name: string; from: string; to: string }[] {
  if (t.edges?.source !== 'listed') return [];
  return [...new Set(t.edges.proxies.map((p) => p.name.replace(/#\d+$/, '')))].map((name) => {
    const [from, to] = name.split('->');
    return { name, from: from!, to: to! };
  });
}

/** What a target offers, for validation of experiments and the console ("no process faults without processes"). */
export function capabilities(t: TTarget) {
  return {
    networkFaults: Boolean(t.edges),
    processFaults: Boolean(t.processes),
    httpFaults: t.processes?.kind === 'supervisor',
    serverSideSlos: Boolean(t.metrics?.requests),
    breakers: Boolean(t.metrics?.breakers),
    consistency: t.invariants.length > 0 || t.acknowledged.length > 0,
    settling: Boolean(t.settled),
  };
}
