/**
 * A target file's `logs` as a run uses them: the reader that ships the
 * system's log lines for the run window into the platform's log store, and
 * the violation trails built from them.
 *
 *   logs.kind ─▶ file ─────────▶ FileLogReader (tail from the run's start offset) ─┐
 *            ├─▶ elasticsearch ─▶ ElasticsearchLogReader (window, search_after) ───┼─▶ LogStore (tagged with the run)
 *            └─▶ supervisor ────▶ LogCollector (the supervisor's stream) ──────────┘
 *
 *   violation ─▶ ids (its `id`, the row's id_field columns, the id-like columns its `show` names)
 *             ─▶ LogStore.search(run, window, text = id) ─▶ lines one of whose id fields equals it ─▶ buildTrail
 */
import path from 'node:path';
import { logIdFields, type TTarget } from '../../targets/index.js';
import { buildTrail, TRACED_PER_INVARIANT, type TTrailLogSearch, type TTrailRows } from '../analysis/index.js';
import { ElasticsearchLogReader, FileLogReader, LogCollector, SupervisorClient, type TTargetLogReaderOptions } from '../collectors/index.js';
import type { TInvariantResult, TTrailEntry, TViolation } from '../reports/index.js';

/** What the run's observers start and stop. */
export interface TTargetLogReader {
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** The reader of `t.logs` for one run; undefined when the target declares no logs. */
export function targetLogReader(t: TTarget, o: TTargetLogReaderOptions): TTargetLogReader | undefined {
  const l = t.logs;
  if (!l) return undefined;
  // the reader tags each record with the first id field (a request id, typically)
  const idField = logIdFields(l)[0]!;
  if (l.kind === 'file') return new FileLogReader(l.path, { service: t.name, instance: path.basename(l.path), idField }, o);
  if (l.kind === 'elasticsearch')
    return new ElasticsearchLogReader(
      { url: l.url, index: l.index, timeField: l.time_field, ...(l.query ? { query: l.query } : {}) },
      { service: t.name, instance: l.index, idField, timeField: l.time_field },
      o,
    );
  return new LogCollector({
    supervisor: new SupervisorClient({ url: l.url }),
    store: o.store,
    runId: o.runId,
    ...(o.onError ? { onError: o.onError } : {}),
    ...(o.onBatch ? { onBatch: o.onBatch } : {}),
  });
}

/** Ids traced per violation. */
const IDS_PER_VIOLATION = 4;
/** Log lines read per id. */
const LINES_PER_ID = 25;
/** Log searches per analysis, whatever the number of violations. */
const SEARCHES_MAX = 60;

/** Whether a value can be an id to look up: a whole number, or a string without spaces (not a sentence like a `detail` column). */
function idLike(x: unknown): string | undefined {
  if (typeof x === 'number' && Number.isInteger(x)) return String(x);
  return typeof x === 'string' && /^[^\s]{1,200}$/.test(x) ? x : undefined;
}

/**
 * The ids a target violation names (pure): its `ids`, the row's id-field columns, and the
 * values of the columns its invariant's `show` names that look like ids (whole numbers, strings
 * without spaces) — at most IDS_PER_VIOLATION.
 */
export function violationIds(v: Pick<TViolation, 'ids' | 'rows'>, show: string | undefined, idFields: readonly string[]): string[] {
  const out: string[] = [];
  const add = (x: unknown) => {
    const id = idLike(x);
    if (id !== undefined && !out.includes(id)) out.push(id);
  };
  for (const id of v.ids) add(id);
  const cols = [...(show ?? '').matchAll(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g)].map((m) => m[1]!);
  for (const r of v.rows) {
    for (const f of idFields) add(r[f]);
    for (const c of cols) add(r[c]);
  }
  return out.slice(0, IDS_PER_VIOLATION);
}

type TLine = TTrailRows['logs'][number] & { requestId?: string };

/** The id field of a stored line that is `id` (the record's requestId counts for `requestId`), if one is. */
function carrier(l: TLine, idFields: readonly string[], id: string): string | undefined {
  return idFields.find((f) => {
    const v = l.fields?.[f] ?? (f === 'requestId' ? l.requestId : undefined);
    return v !== undefined && v !== null && String(v) === id;
  });
}

/**
 * Attach a trail to the first new violations of every invariant of `t`
 * (copies returned): the steps its `trails` queries return for the violation's ids, and the
 * run's log lines one of whose `logs.id_field` fields equals one of them, in the trail shape
 * the shop's violations have. A log store that fails adds one step saying so.
 */
export async function traceTargetViolations(
  t: TTarget,
  invariants: readonly TInvariantResult[],
  o: { logs?: TTrailLogSearch; runId: string; window?: { from: number; to: number }; steps?: (ids: readonly string[]) => Promise<TTrailEntry[]> },
): Promise<TInvariantResult[]> {
  const idFields = logIdFields(t.logs);
  const fieldsText = idFields.join(' or ');
  const out = invariants.map((i) => ({ ...i, violations: i.violations.map((v) => ({ ...v })) }));
  const found = new Map<string, TLine[]>();
  let searches = 0;
  let error: string | null = null;
  const linesOf = async (id: string): Promise<TLine[]> => {
    const hit = found.get(id);
    if (!o.logs || hit || error || searches >= SEARCHES_MAX) return hit ?? [];
    searches++;
    try {
      const page = await o.logs.search({
        runId: o.runId,
        text: id,
        limit: LINES_PER_ID * 4,
        ...(o.window ? { from: new Date(o.window.from), to: new Date(o.window.to) } : {}),
      });
      // full-text finds the id anywhere in a line; the trail keeps the lines whose id field is it
      const lines = (page.records as TLine[])
        .flatMap((l) => {
          const f = carrier(l, idFields, id);
          // the step names the id it was found by (the shop's steps name their order in the text)
          return f ? [{ ...l, msg: `${l.msg} [${f}=${id}]` }] : [];
        })
        .slice(0, LINES_PER_ID);
      found.set(id, lines);
      return lines;
    } catch (e) {
      error = (e as Error).message;
      return [];
    }
  };
  for (const inv of out) {
    const show = t.invariants.find((x) => x.name === inv.name)?.show;
    for (const v of inv.violations.filter((x) => !x.preExisting).slice(0, TRACED_PER_INVARIANT)) {
      const ids = violationIds(v, show, idFields);
      const logs: TLine[] = [];
      for (const id of ids) logs.push(...(await linesOf(id)));
      const trail: TTrailEntry[] = buildTrail({ logs, steps: o.steps ? await o.steps(ids) : [] });
      if (error) trail.push({ at: null, source: 'trail', text: `log store not searched: ${error}` });
      else if (ids.length === 0) trail.push({ at: null, source: 'trail', text: `the violation names no id: no log line to follow (${fieldsText})` });
      else if (o.logs && logs.length === 0) trail.push({ at: null, source: 'trail', text: `no log line of the run has ${fieldsText} = ${ids.join(' or ')}` });
      v.trail = trail;
    }
  }
  return out;
}
