/**
 * Starting and following runs from the console. Runs are created and queued
 * by the runner's `enqueueRun`; the console never executes one itself.
 */
import { isTargetFile, type TExperiment } from '../../experiments/index.js';
import { breakerMapping, loadTarget } from '../../targets/index.js';
import { enqueueRun, getPlatform, readSamples, requestAbort, subscribeRun, type TPlatform, type TStoredRunEvent } from '../../workers/index.js';
import { breakerTimelines, type TBreakerMapping } from '../../workers/analysis/index.js';
import { resolveTargetFile } from '../../workers/targets/index.js';
import type { TDb } from '../../db/client.js';
import { db } from './deps.js';
import { getExperiment } from './experiments.js';
import { AppError } from '../../core/errors.js';
import { parseReport, renderHtml, renderJunit, renderSummary, type TReport } from '../../workers/reports/index.js';
import { getRun, runReport, runViolations } from './queries.js';
import { isTerminal } from '../../db/schema/index.js';

export { closeRunHub } from '../../workers/index.js';

/** The platform handles, with the key prefix the workers use (FAULTLINE_PREFIX, for isolated stacks). */
export function platform(): TPlatform {
  return getPlatform({ prefix: process.env.FAULTLINE_PREFIX || 'faultline' });
}

export async function startExperimentRun(e: TExperiment, ctx: { trigger: 'console' | 'schedule' | 'api'; scheduleId?: string }) {
  const r = await enqueueRun(platform(), { experiment: e, trigger: ctx.trigger, scheduleId: ctx.scheduleId });
  return { id: r.runId };
}

/** Run a saved or shipped experiment by id; YAML is passed so the run keeps the text it ran. */
export async function startRunOf(experimentId: string, trigger: 'console' | 'api') {
  const d = await getExperiment(db(), experimentId);
  const r = await enqueueRun(
    platform(),
    d.yaml
      ? { yaml: d.yaml, sourcePath: d.source === 'shipped' ? `experiments/${experimentId}.yaml` : undefined, trigger }
      : { experiment: d.experiment, trigger },
  );
  return { id: r.runId };
}

export async function runView(id: string) {
  const d = db();
  const run = await getRun(d, id);
  const [stored, violations] = await Promise.all([runReport(d, id), runViolations(d, id)]);
  let report: TReport | null = null;
  let reportError: string | null = null;
  if (stored) {
    try {
      report = parseReport(stored.report);
    } catch (e) {
      reportError = (e as Error).message;
    }
  }
  return { run, report, reportError, violations };
}
export type TRunView = Awaited<ReturnType<typeof runView>>;

export async function abortRun(id: string, by: string) {
  const run = await getRun(db(), id);
  if (isTerminal(run.state)) throw new AppError('CONFLICT', `run ${id} already ended (${run.state})`);
  // A queued run is ended at once; a running one is told over its control channel.
  await requestAbort(platform(), id, `by ${by} from the console`);
  return { ok: true };
}

export const REPORT_FORMATS = {
  json: ['report.json', 'application/json'],
  junit: ['junit.xml', 'application/xml'],
  md: ['summary.md', 'text/markdown; charset=utf-8'],
  html: ['report.html', 'text/html; charset=utf-8'],
} as const;
export type TReportFormat = keyof typeof REPORT_FORMATS;

/** The report of a finished run in one of its four renderings, from the stored report.json. */
export async function reportFile(id: string, format: TReportFormat): Promise<{ name: string; type: string; body: string }> {
  const stored = await runReport(db(), id);
  if (!stored) throw new AppError('NOT_FOUND', `run ${id} has no report yet`);
  const r = parseReport(stored.report);
  const [file, type] = REPORT_FORMATS[format];
  const body = format === 'json' ? JSON.stringify(r, null, 2) : format === 'junit' ? renderJunit(r) : format === 'md' ? renderSummary(r) : renderHtml(r);
  return { name: `${id}-${file}`, type, body };
}

export async function searchRunLogs(
  id: string,
  q: { service?: string; level?: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal'; text?: string; cursor?: string; limit?: number },
) {
  await getRun(db(), id);
  return platform().logStore.search({ runId: id, ...q, limit: q.limit ?? 200 });
}

/**
 * Breaker state lanes of a run from the metric samples collected so far, so
 * the run page draws them while the run goes on (the report's timelines,
 * which also use the breaker log lines, replace them after the analysis).
 */
export async function runBreakers(id: string) {
  const d = db();
  const run = await getRun(d, id);
  const mapping = await breakerMappingOfRun(d, run.definition);
  const samples = await readSamples(d, id, { metrics: [mapping?.metric ?? 'circuit_breaker_state'] });
  const until = run.endedAt ? run.endedAt.getTime() : Date.now();
  return { timelines: breakerTimelines(samples, [], [], until, mapping ? { mapping } : {}), until };
}

/**
 * The breaker mapping of a run against a target file (its `metrics.breakers`,
 * read from the file the definition names, or the target saved in the console
 * it names: resolveTargetFile); undefined for the shop, a target without
 * breakers, or a file no longer readable (then no lanes, as before).
 */
async function breakerMappingOfRun(d: TDb, definition: unknown): Promise<TBreakerMapping | undefined> {
  const target = (definition as { target?: unknown } | null)?.target;
  if (typeof target !== 'string' || !isTargetFile(target)) return undefined;
  try {
    const b = (await loadTarget(await resolveTargetFile(d, target))).target.metrics?.breakers;
    return b ? breakerMapping(b) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Server-Sent Events of a run: stored events after `after`, then live ones
 * from Redis pub/sub, in seq order without gaps or duplicates. Subscribes
 * before reading the table so nothing published in between is lost; ends
 * after the verdict (or when the client goes away).
 */
export function runEventStream(id: string, after: number, signal: AbortSignal): ReadableStream<Uint8Array> {
  const p = platform();
  const enc = new TextEncoder();
  let closed = false;
  let cleanup = () => {};
  return new ReadableStream<Uint8Array>({
    async start(ctl) {
      let unsubscribe = async () => {};
      const send = (e: TStoredRunEvent) => {
        if (closed) return;
        ctl.enqueue(enc.encode(`id: ${e.seq}\nevent: run\ndata: ${JSON.stringify(e)}\n\n`));
        if (e.type === 'verdict') finish();
      };
      const heartbeat = setInterval(() => !closed && ctl.enqueue(enc.encode(`: keep-alive\n\n`)), 15_000);
      const finish = () => {
        if (closed) return;
        closed = true;
        clearInterval(heartbeat);
        void unsubscribe();
        try {
          ctl.close();
        } catch {
          /* already closed */
        }
      };
      cleanup = finish;
      signal.addEventListener('abort', finish);
      try {
        // A run that ended before we subscribed may have no verdict event (errored early): end the stream.
        const onEnded = (state: string) => {
          if (closed) return;
          ctl.enqueue(enc.encode(`event: end\ndata: ${JSON.stringify({ state })}\n\n`));
          finish();
        };
        const unsub = await subscribeRun(p, id, send, { afterSeq: after, shared: true, onEnded });
        // the stream may have ended during the catch-up (verdict, client gone): let go at once
        if (closed) await unsub();
        else unsubscribe = unsub;
      } catch (e) {
        if (!closed) ctl.enqueue(enc.encode(`event: error\ndata: ${JSON.stringify({ message: (e as Error).message })}\n\n`));
        finish();
      }
    },
    cancel() {
      cleanup();
    },
  });
}
