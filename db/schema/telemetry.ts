/**
 * Telemetry of runs: scraped metric samples and shipped log lines.
 *
 * Samples are stored compactly: each distinct (run, instance, metric, labels)
 * is one `metric_series` row, and each scrape adds one narrow
 * `(series_id, t, value)` row per series — no repeated label JSON per sample.
 * Values are cumulative as scraped (counters, histogram buckets) or gauges
 * (breaker state); analysis computes deltas and handles counter resets.
 */
import { sql } from 'drizzle-orm';
import { bigserial, customType, doublePrecision, index, integer, jsonb, pgTable, primaryKey, serial, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { runs } from './runs.js';

const tz = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

const tsvector = customType<{ data: string }>({
  dataType() {
    return 'tsvector';
  },
});

export const metricSeries = pgTable(
  'metric_series',
  {
    id: serial('id').primaryKey(),
    runId: text('run_id')
      .notNull()
      .references(() => runs.id, { onDelete: 'cascade' }),
    service: text('service').notNull(),
    instance: text('instance').notNull(),
    /** Full sample name as exposed, e.g. `http_server_request_duration_seconds_bucket`. */
    metric: text('metric').notNull(),
    labels: jsonb('labels').$type<Record<string, string>>().notNull(),
    /** Canonical `k=v,k=v` of the sorted labels: the series identity. */
    labelKey: text('label_key').notNull(),
  },
  (t) => [uniqueIndex('metric_series_identity_idx').on(t.runId, t.instance, t.metric, t.labelKey), index('metric_series_metric_idx').on(t.runId, t.metric)],
);

export const metricSamples = pgTable(
  'metric_samples',
  {
    seriesId: integer('series_id')
      .notNull()
      .references(() => metricSeries.id, { onDelete: 'cascade' }),
    t: tz('t').notNull(),
    value: doublePrecision('value').notNull(),
  },
  (t) => [primaryKey({ columns: [t.seriesId, t.t] })],
);

/** Log lines (Postgres log store; used when ELASTICSEARCH_URL is unset). */
export const logs = pgTable(
  'logs',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    time: tz('time').notNull(),
    level: text('level').notNull(),
    service: text('service').notNull(),
    instance: text('instance').notNull(),
    msg: text('msg').notNull(),
    requestId: text('request_id'),
    runId: text('run_id'),
    fields: jsonb('fields')
      .$type<Record<string, unknown>>()
      .notNull()
      .default(sql`'{}'::jsonb`),
    /** Full-text index over the message and the other fields (ids stay searchable: 'simple' config, no stemming). */
    search: tsvector('search')
      .notNull()
      .generatedAlwaysAs(sql`to_tsvector('simple'::regconfig, coalesce(msg, '') || ' ' || coalesce(fields::text, ''))`),
  },
  (t) => [index('logs_run_time_idx').on(t.runId, t.time), index('logs_time_idx').on(t.time), index('logs_search_idx').using('gin', t.search)],
);
