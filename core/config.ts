/**
 * Platform configuration from the environment. The same variable names are
 * used by the embedded quickstart and by docker-compose.yml: only the values
 * differ, never the code path.
 */
import { z } from 'zod';
import { parseWith } from './validate.js';

export const ConfigSchema = z.object({
  /** Platform database (runs, samples, events, reports). */
  DATABASE_URL: z.string().default('postgres://postgres@127.0.0.1:5432/faultline'),
  /** The shop's database (each service owns a schema in it). */
  SHOP_DATABASE_URL: z.string().default('postgres://postgres@127.0.0.1:5432/faultline_shop'),
  REDIS_URL: z.string().default('redis://127.0.0.1:6379'),
  /** Toxiproxy (real) or faultline's compatible fault proxy. */
  TOXIPROXY_URL: z.string().default('http://127.0.0.1:8474'),
  /** Shop supervisor admin API (instances, edges, HTTP faults, logs). */
  SUPERVISOR_URL: z.string().default('http://127.0.0.1:8479'),
  /** Public entry of the shop. */
  SHOP_GATEWAY_URL: z.string().default('http://127.0.0.1:8080'),
  /** When set, logs go to Elasticsearch; otherwise to the Postgres log store. */
  ELASTICSEARCH_URL: z.string().optional(),
  /** A k6 binary; when absent (and no k6 on PATH) the built-in engine runs. */
  K6_BIN: z.string().optional(),
  /** Where run reports are written. */
  REPORT_DIR: z.string().default('.faultline/reports'),
  /** Console URL (for links printed by the CLI). */
  CONSOLE_URL: z.string().default('http://127.0.0.1:3000'),
  /** Where a long-lived worker serves faultline's own /metrics (0.0.0.0 in containers). */
  FAULTLINE_METRICS_HOST: z.string().default('127.0.0.1'),
  FAULTLINE_METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
  /** Hosts a fault target or proxy upstream may point at (comma list). */
  FAULT_ALLOWED_HOSTS: z.string().default('127.0.0.1,localhost,::1'),
  /** Folder whose targets/, examples/ and experiments/ the console's Targets page lists; unset: this checkout. */
  FAULTLINE_TARGETS_ROOT: z.string().optional(),
  /** The platform's own files (relative: to the working directory), e.g. `<dir>/targets/`: targets saved in the console written out for runs. */
  FAULTLINE_DATA_DIR: z.string().default('.faultline'),
});

export type TConfig = z.infer<typeof ConfigSchema>;

let cached: TConfig | undefined;

/** Read and validate the environment once per process. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): TConfig {
  if (env === process.env && cached) return cached;
  const picked: Record<string, string | undefined> = {};
  for (const k of Object.keys(ConfigSchema.shape)) if (env[k] !== undefined && env[k] !== '') picked[k] = env[k];
  const cfg = parseWith(ConfigSchema, picked, 'environment');
  if (env === process.env) cached = cfg;
  return cfg;
}
