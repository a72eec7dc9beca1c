/**
 * A target file's consistency, as the runner and the analysis ask it: the
 * `settled` query, the invariants (each a read-only SQL returning the
 * offending rows; rows = violations, shown with the invariant's `show`
 * template) and the acknowledged-write check (every id the load saw
 * acknowledged must exist). Each database is read in one REPEATABLE READ
 * READ ONLY snapshot with a statement timeout; a check that cannot run fails
 * with its error, it never passes.
 *
 *   settled ──▶ rows? in flight : settled
 *   baseline (before the load) ──▶ invariant rows as findings {invariant, key (its key columns, or the row), measure}
 *   after settling ──▶ invariants ─▶ rows − baseline (same key, measure not grown) = violations
 *                  └─▶ acknowledged ids (history ok + value.id, by route) ─▶ confirm SQL / GET ─▶ missing = violations
 */
import pg from 'pg';
import type { TEnv, TTarget, TTargetAcknowledged, TTargetInvariant } from '../../targets/index.js';
import { databaseUrl, historyDatabase } from '../../targets/index.js';
import type { TBaselineFinding, TConsistencyBaseline, THistoryEventLike } from '../analysis/index.js';
import type { TInfoOp, TInvariantResult, TTrailEntry, TViolation } from '../reports/index.js';

/** The name experiments list the acknowledged-write check under (experiments/ ACKNOWLEDGED_CHECK). */
export const ACKNOWLEDGED_CHECK_NAME = 'acknowledged-writes-exist';
/** The name experiments list the history check under (failed writes did not happen, no unknown writes; experiments/ HISTORY_CHECK). */
export const HISTORY_CHECK_NAME = 'history-consistent';
/** Violations listed per invariant (the count is always complete). */
const MAX_LISTED = 50;

type TRow = Record<string, unknown>;

/** `account {id}: balance {balance_cents}` filled from one row; the row as JSON without a template. */
export function showRow(template: string | undefined, row: TRow): string {
  if (!template) return JSON.stringify(row);
  return template.replace(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (m, k: string) => (k in row ? String(row[k]) : m));
}

function plain(r: TRow): TRow {
  return Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v instanceof Date ? v.toISOString() : typeof v === 'bigint' ? String(v) : v]));
}

/** A connection to target database `name` inside a read-only snapshot (the caller rolls back and ends it). */
async function openSnapshot(t: TTarget, name: string, env: TEnv, statementTimeoutMs: number): Promise<pg.Client> {
  const url = databaseUrl(t, name, env);
  if (!url) throw new Error(`database ${name}: ${t.databases[name]?.url_env ?? '?'} is not set and has no default`);
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000, statement_timeout: statementTimeoutMs });
  await c.connect();
  try {
    await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  } catch (e) {
    await c.end().catch(() => undefined);
    throw e;
  }
  return c;
}

/** End a snapshot opened by openSnapshot. */
async function closeSnapshot(c: pg.Client | undefined): Promise<void> {
  await c?.query('ROLLBACK').catch(() => undefined);
  await c?.end().catch(() => undefined);
}

/** Run `fn` in one read-only snapshot of a target database. */
async function inSnapshot<T>(t: TTarget, name: string, env: TEnv, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = await openSnapshot(t, name, env, 30_000);
  try {
    return await fn(c);
  } finally {
    await closeSnapshot(c);
  }
}

/** The `settled` query's rows: one per thing in flight, as JSON. */
async function inFlight(t: TTarget, env: TEnv): Promise<string[]> {
  const q = t.settled!;
  const rows = await inSnapshot(t, q.database, env, async (c) => (await c.query(q.sql)).rows as TRow[]);
  return rows.map((r) => JSON.stringify(plain(r)));
}

/**
 * Whether the target has settled: its `settled` query returns no row (no query: settled).
 * Given the run's baseline, a row that was already there before the load (stuck since an
 * earlier run) is not waited for: it will not settle now either.
 */
export async function isTargetSettled(
  t: TTarget,
  env: TEnv = process.env,
  baseline?: Pick<TConsistencyBaseline, 'inFlight'>,
): Promise<{ settled: boolean; detail: string }> {
  if (!t.settled) return { settled: true, detail: 'the target declares no settled condition' };
  const before = new Set(baseline?.inFlight ?? []);
  const rows = await inFlight(t, env);
  const now = rows.filter((r) => !before.has(r));
  const stuck = rows.length - now.length;
  const old = stuck ? ` (${stuck} in flight since before the load, not waited for)` : '';
  if (now.length === 0) return { settled: true, detail: `nothing in flight${old}` };
  return { settled: false, detail: `${now.length} in flight, e.g. ${now[0]}${old}` };
}

function wantedInvariants(t: TTarget, names: readonly string[]) {
  return names.includes('*') ? t.invariants : t.invariants.filter((i) => names.includes(i.name));
}

/**
 * One offending row as a baseline finding: its `key` columns (the whole row without
 * `key`) and its `measure` column (0 without). A key or measure column the query does
 * not return is the invariant's error, naming the column.
 */
export function findingOf(inv: Pick<TTargetInvariant, 'name' | 'key' | 'measure'>, r: TRow): TBaselineFinding {
  const column = (c: string, field: 'key' | 'measure') => {
    if (!(c in r)) throw new Error(`${field} column "${c}" is not a column of the query (its columns: ${Object.keys(r).join(', ')})`);
    return r[c];
  };
  const key = inv.key ? JSON.stringify(inv.key.map((c) => column(c, 'key'))) : JSON.stringify(r);
  let measure = 0;
  if (inv.measure) {
    measure = Number(column(inv.measure, 'measure'));
    if (!Number.isFinite(measure)) throw new Error(`measure column "${inv.measure}" is not a number (${JSON.stringify(r[inv.measure])})`);
  }
  return { invariant: inv.name, kind: inv.name, key, measure };
}

/** The invariants' offending rows before the load: later the same findings are pre-existing (unless their measure grew). */
export async function captureTargetBaseline(t: TTarget, names: readonly string[], env: TEnv = process.env): Promise<TConsistencyBaseline> {
  const baseline: TConsistencyBaseline = { capturedAt: Date.now(), findings: [], errors: [] };
  if (t.settled) baseline.inFlight = await inFlight(t, env).catch(() => undefined);
  for (const inv of wantedInvariants(t, names)) {
    try {
      const rows = await inSnapshot(t, inv.database, env, async (c) => (await c.query(inv.sql)).rows as TRow[]);
      const findings = rows.map((r) => findingOf(inv, plain(r)));
      baseline.findings.push(...findings);
    } catch (e) {
      baseline.errors.push({ invariant: inv.name, message: (e as Error).message });
    }
  }
  return baseline;
}

/** The one number an invariant's `count` query returns. */
function countOf(invariant: string, rows: TRow[]): number {
  const v = rows[0] ? Object.values(rows[0])[0] : undefined;
  const n = Number(v);
  if (rows.length !== 1 || v === null || v === undefined || !Number.isFinite(n))
    throw new Error(`${invariant}: count must return one number (one row, one column), got ${JSON.stringify(rows.slice(0, 2).map(plain))}`);
  return n;
}

async function judgeInvariants(t: TTarget, names: readonly string[], env: TEnv, baseline?: TConsistencyBaseline): Promise<TInvariantResult[]> {
  const out: TInvariantResult[] = [];
  for (const inv of wantedInvariants(t, names)) {
    try {
      const { rows, examined } = await inSnapshot(t, inv.database, env, async (c) => ({
        rows: ((await c.query(inv.sql)).rows as TRow[]).map(plain),
        examined: inv.count ? countOf(inv.name, (await c.query(inv.count)).rows as TRow[]) : undefined,
      }));
      // a finding of the baseline stays pre-existing while its measure did not grow
      const before = new Map<string, number>();
      for (const f of baseline?.findings ?? []) if (f.invariant === inv.name) before.set(f.key, Math.max(f.measure, before.get(f.key) ?? -Infinity));
      const violations: TViolation[] = rows.map((r) => {
        const f = findingOf(inv, r);
        const was = before.get(f.key);
        return {
          kind: inv.name,
          message: showRow(inv.show, r),
          ids: 'id' in r ? [String(r.id)] : [],
          rows: [r],
          events: [],
          ...(was !== undefined && f.measure <= was ? { preExisting: true } : {}),
        };
      });
      const fresh = violations.filter((v) => !v.preExisting);
      const old = violations.length - fresh.length;
      out.push({
        name: inv.name,
        description: inv.description,
        pass: fresh.length === 0,
        checked: examined ?? rows.length,
        violations: [...fresh, ...violations.filter((v) => v.preExisting)].slice(0, MAX_LISTED),
        ...(old ? { preExisting: old } : {}),
      });
    } catch (e) {
      out.push({ name: inv.name, description: inv.description, pass: false, checked: 0, violations: [], error: (e as Error).message });
    }
  }
  return out;
}

/** Ids the client saw acknowledged on `a`'s route (history `ok` events carrying `value.id`). */
export function acknowledgedIds(a: TTargetAcknowledged, history: readonly THistoryEventLike[]): string[] {
  const ids = new Set<string>();
  for (const e of history) {
    const id = (e.value as { id?: unknown }).id;
    if (e.type === 'ok' && e.route === a.route && typeof id === 'string' && a.status.includes(e.value.status ?? 0)) ids.add(id);
  }
  return [...ids];
}

/** Each acknowledged id found after the run, with its state when `confirm.sql` returns a `state` column. */
async function confirmIds(t: TTarget, a: TTargetAcknowledged, ids: string[], env: TEnv): Promise<Map<string, TRow>> {
  const found = new Map<string, TRow>();
  if (ids.length === 0) return found;
  if ('database' in a.confirm) {
    const { database, sql } = a.confirm;
    const rows = await inSnapshot(t, database, env, async (c) => (await c.query(sql, [ids])).rows as TRow[]);
    if (a.final_states && rows.length && !('state' in rows[0]!))
      throw new Error(`final_states needs a state column in confirm.sql (its columns: ${Object.keys(rows[0]!).join(', ')})`);
    const missing = Object.keys(a.agree ?? {}).filter((c) => rows.length && !(c in rows[0]!));
    if (missing.length) throw new Error(`agree names ${missing.join(', ')}, not a column of confirm.sql (its columns: ${Object.keys(rows[0]!).join(', ')})`);
    for (const r of rows) found.set(String(Object.values(r)[0]), plain(r));
    return found;
  }
  const { get, expect_status } = a.confirm;
  for (const id of ids) {
    const r = await fetch(`${t.entry.url.replace(/\/+$/, '')}${get.replaceAll('{id}', encodeURIComponent(id))}`, { signal: AbortSignal.timeout(5000) });
    await r.arrayBuffer();
    if (expect_status.includes(r.status)) found.set(id, { id });
  }
  return found;
}

/** Ids the client's own operations on `routes` named (acknowledged or indeterminate: the change may have happened). */
export function changedIds(routes: readonly string[], history: readonly THistoryEventLike[]): Set<string> {
  const ids = new Set<string>();
  if (routes.length === 0) return ids;
  for (const e of history)
    if ((e.type === 'ok' || e.type === 'info') && e.route && routes.includes(e.route) && typeof e.value.id === 'string') ids.add(e.value.id);
  return ids;
}

/** The history events of one id on `a`'s route (its invoke is paired by process), as a violation's evidence. */
function eventsOf(a: TTargetAcknowledged, id: string, history: readonly THistoryEventLike[]): Record<string, unknown>[] {
  const done = history.find((e) => e.type === 'ok' && e.route === a.route && e.value.id === id);
  if (!done) return [];
  const invoke = [...history].reverse().find((e) => e.type === 'invoke' && e.process === done.process && e.index < done.index);
  return [...(invoke ? [{ ...invoke }] : []), { ...done }];
}

/** The acknowledging response's recorded values for `id` (`fields`: JSON path → value). */
function toldValues(a: TTargetAcknowledged, id: string, history: readonly THistoryEventLike[]): Record<string, unknown> | undefined {
  return history.find((e) => e.type === 'ok' && e.route === a.route && e.value.id === id && e.value.fields)?.value.fields;
}

/** Each `agree` column whose value in the write's row is not what the client was told (`ack-mismatch`). */
function disagreements(a: TTargetAcknowledged, id: string, row: TRow, history: readonly THistoryEventLike[]): TViolation[] {
  const told = a.agree ? toldValues(a, id, history) : undefined;
  if (!a.agree || !told) return [];
  return Object.entries(a.agree).flatMap(([column, jsonPath]) => {
    if (!(jsonPath in told) || String(told[jsonPath]) === String(row[column])) return [];
    return [
      {
        kind: 'ack-mismatch',
        message: `${a.route} acknowledged ${id} with ${jsonPath.slice(2)} ${String(told[jsonPath])}, its row says ${column} ${String(row[column])}`,
        ids: [id],
        rows: [row],
        events: eventsOf(a, id, history),
      },
    ];
  });
}

/** Writes the load completed on `a`'s route: acknowledged, failed or of unknown outcome. */
function attemptsOn(a: TTargetAcknowledged, history: readonly THistoryEventLike[]): number {
  return history.filter((e) => e.type !== 'invoke' && e.route === a.route).length;
}

async function judgeAcknowledged(t: TTarget, history: readonly THistoryEventLike[], env: TEnv): Promise<TInvariantResult> {
  const description = 'every write the client saw acknowledged exists after the run (in a state it may end in, with the values it was told)';
  try {
    let checked = 0;
    let attempted = 0;
    const violations: TViolation[] = [];
    for (const a of t.acknowledged) {
      attempted += attemptsOn(a, history);
      const ids = acknowledgedIds(a, history);
      checked += ids.length;
      const found = await confirmIds(t, a, ids, env);
      const changed = changedIds(a.changed_by, history);
      for (const id of ids) {
        const lost = (message: string, rows: TRow[]) => violations.push({ kind: 'lost-ack', message, ids: [id], rows, events: eventsOf(a, id, history) });
        const row = found.get(id);
        if (!row) lost(`${a.route} acknowledged ${id}, which does not exist`, []);
        else {
          const state = row.state === undefined || row.state === null ? undefined : String(row.state);
          if (a.final_states && !a.final_states.includes(state ?? '') && !changed.has(id))
            lost(`${a.route} acknowledged ${id}, which is now ${state ?? 'without a state'} (it may end only as ${a.final_states.join(' or ')})`, [
              { id, state },
            ]);
          else violations.push(...disagreements(a, id, row, history));
        }
      }
    }
    return { name: ACKNOWLEDGED_CHECK_NAME, description, pass: violations.length === 0, checked, attempted, violations: violations.slice(0, MAX_LISTED) };
  } catch (e) {
    return { name: ACKNOWLEDGED_CHECK_NAME, description, pass: false, checked: 0, violations: [], error: (e as Error).message };
  }
}

/**
 * The request keys of `a`'s route in the history: every key sent (invokes), and those whose
 * attempt definitely failed (a `fail` completion; not one that also succeeded under the same key).
 */
export function historyKeys(a: Pick<TTargetAcknowledged, 'route'>, history: readonly THistoryEventLike[]): { sent: Set<string>; failed: Set<string> } {
  const sent = new Set<string>();
  const failed = new Set<string>();
  const succeeded = new Set<string>();
  for (const e of history) {
    const key = e.value.key;
    if (e.route !== a.route || typeof key !== 'string') continue;
    if (e.type === 'invoke') sent.add(key);
    else if (e.type === 'fail') failed.add(key);
    else if (e.type === 'ok') succeeded.add(key);
  }
  for (const k of succeeded) failed.delete(k);
  return { sent, failed };
}

/** The invoke and completion events of the attempts with request key `key` on `route`, as a violation's evidence. */
function eventsOfKey(route: string, key: string, history: readonly THistoryEventLike[]): Record<string, unknown>[] {
  return history.filter((e) => e.route === route && e.value.key === key).map((e) => ({ ...e }));
}

/** Rows of one history SQL (`failed` or `unknown`) in the database it names (or confirm's). */
async function historyRows(t: TTarget, a: TTargetAcknowledged, q: NonNullable<TTargetAcknowledged['failed']>, params: unknown[], env: TEnv): Promise<TRow[]> {
  const database = historyDatabase(a, q)!;
  return inSnapshot(t, database, env, async (c) => ((await c.query(q.sql, params)).rows as TRow[]).map(plain));
}

/** One row of a history SQL as a violation: its first column is the write's key. */
function historyViolation(kind: string, message: (key: string) => string, show: string | undefined, r: TRow, events: Record<string, unknown>[]): TViolation {
  const key = String(Object.values(r)[0]);
  const id = 'id' in r ? String(r.id) : key;
  return { kind, message: `${message(key)}: ${showRow(show, r)}`, ids: [...new Set([id, key])], rows: [r], events };
}

/**
 * Jepsen's set check, the half beyond acknowledged writes: a write the client was told failed
 * must not have happened (`failed`), and nothing may be written during the run that the client
 * never sent (`unknown`; skipped when the history carries no key: known and unknown cannot be told
 * apart). `checked` is the writes the load completed on these routes.
 */
/**
 * The attempts on `a`'s route whose outcome the client could not know (`info`: a 5xx, no answer),
 * each recovered or not: whether its key is among `happened` (the `failed` query's rows, by key).
 */
function indeterminate(a: TTargetAcknowledged, ops: readonly THistoryEventLike[], happened: ReadonlyMap<string, TRow>): TInfoOp[] {
  return ops.map((e) => {
    const r = happened.get(e.value.key!);
    return {
      f: e.f === 'request' ? a.route : e.f,
      idempotencyKey: e.value.key!,
      time: e.time,
      recovered: r !== undefined,
      finalStatus: r && 'status' in r ? String(r.status) : null,
      orderId: r && 'id' in r ? String(r.id) : null,
      error: e.value.error ?? null,
    };
  });
}

/** One acknowledged route's half of the history check: its failed-but-happened and unknown writes, and its indeterminate attempts. */
async function historyOf(
  t: TTarget,
  a: TTargetAcknowledged,
  history: readonly THistoryEventLike[],
  loadStart: number,
  env: TEnv,
): Promise<{ violations: TViolation[]; infoOps: TInfoOp[] }> {
  const violations: TViolation[] = [];
  const { sent, failed } = historyKeys(a, history);
  const info = history.filter((e) => e.type === 'info' && e.route === a.route && typeof e.value.key === 'string');
  // one `failed` query answers both: which failed attempts happened, which indeterminate ones did
  const asked = new Set([...failed, ...info.map((e) => e.value.key!)]);
  const happened = new Map<string, TRow>();
  if (a.failed && asked.size > 0) for (const r of await historyRows(t, a, a.failed, [[...asked]], env)) happened.set(String(Object.values(r)[0]), r);
  for (const [key, r] of happened)
    if (failed.has(key))
      violations.push(
        historyViolation(
          'failed-but-happened',
          (k) => `${a.route} failed for the client (key ${k}) but the write happened`,
          a.failed!.show,
          r,
          eventsOfKey(a.route, key, history),
        ),
      );
  if (a.unknown && sent.size > 0)
    for (const r of await historyRows(t, a, a.unknown, [[...sent], loadStart], env))
      violations.push(
        historyViolation('unknown-write', (k) => `a write (key ${k}) was made during the run that the client never sent on ${a.route}`, a.unknown.show, r, []),
      );
  return { violations, infoOps: a.failed ? indeterminate(a, info, happened) : [] };
}

async function judgeHistory(
  t: TTarget,
  history: readonly THistoryEventLike[],
  loadStart: number,
  env: TEnv,
): Promise<{ result: TInvariantResult; infoOps: TInfoOp[] }> {
  const description = 'writes the client saw fail did not happen, and nothing was written that the client never sent';
  const infoOps: TInfoOp[] = [];
  try {
    let checked = 0;
    const violations: TViolation[] = [];
    for (const a of t.acknowledged.filter((x) => x.failed || x.unknown)) {
      checked += attemptsOn(a, history);
      const h = await historyOf(t, a, history, loadStart, env);
      violations.push(...h.violations);
      infoOps.push(...h.infoOps);
    }
    return {
      result: { name: HISTORY_CHECK_NAME, description, pass: violations.length === 0, checked, violations: violations.slice(0, MAX_LISTED) },
      infoOps,
    };
  } catch (e) {
    return { result: { name: HISTORY_CHECK_NAME, description, pass: false, checked: 0, violations: [], error: (e as Error).message }, infoOps };
  }
}

/** What the `trails` queries say about some ids, as trail steps; `close` ends their snapshots. */
export interface TTrailReader {
  steps(ids: readonly string[]): Promise<TTrailEntry[]>;
  close(): Promise<void>;
}

/**
 * The reader of a target's `trails` queries for one analysis: one read-only snapshot per
 * database, opened on first use and shared by every violation. A query that fails adds one
 * step naming it (the trail still shows the rest).
 */
export function targetTrailReader(t: TTarget, env: TEnv = process.env): TTrailReader {
  const clients = new Map<string, Promise<pg.Client>>();
  const clientOf = (name: string) => {
    let c = clients.get(name);
    if (!c) {
      c = openSnapshot(t, name, env, 10_000);
      clients.set(name, c);
    }
    return c;
  };
  return {
    async steps(ids) {
      const out: TTrailEntry[] = [];
      if (ids.length === 0) return out;
      for (const [i, q] of t.trails.entries()) {
        const source = q.source ?? `trails.${i}`;
        try {
          const c = await clientOf(q.database);
          await c.query('SAVEPOINT trail');
          const rows = (await c.query(q.sql, [[...ids]])).rows as TRow[];
          await c.query('RELEASE SAVEPOINT trail');
          for (const r of rows.map(plain)) {
            const at = r.at === null || r.at === undefined ? null : String(r.at);
            const { at: _at, ...rest } = r;
            out.push({ at, source, text: 'text' in r ? String(r.text) : JSON.stringify(rest) });
          }
        } catch (e) {
          await (await clientOf(q.database).catch(() => undefined))?.query('ROLLBACK TO SAVEPOINT trail').catch(() => undefined);
          out.push({ at: null, source: 'trail', text: `${source} not read: ${(e as Error).message}` });
        }
      }
      return out;
    },
    async close() {
      for (const c of clients.values()) await closeSnapshot(await c.catch(() => undefined));
    },
  };
}

/** The target's consistency verdicts after settling: its SQL invariants, the acknowledged-write check, the history check. */
export async function checkTargetConsistency(
  t: TTarget,
  input: { invariants: readonly string[]; history: readonly THistoryEventLike[]; baseline?: TConsistencyBaseline; loadStart?: number },
  env: TEnv = process.env,
): Promise<{ invariants: TInvariantResult[]; infoOps: TInfoOp[] }> {
  const invariants = await judgeInvariants(t, input.invariants, env, input.baseline);
  const infoOps: TInfoOp[] = [];
  const want = (name: string) => input.invariants.includes('*') || input.invariants.includes(name);
  if (want(ACKNOWLEDGED_CHECK_NAME) && t.acknowledged.length) invariants.push(await judgeAcknowledged(t, input.history, env));
  if (want(HISTORY_CHECK_NAME) && t.acknowledged.some((a) => a.failed || a.unknown)) {
    // without the load's start, the first write of the history bounds "during the run"
    const loadStart = input.loadStart ?? Math.min(...input.history.map((e) => e.time));
    const h = await judgeHistory(t, input.history, loadStart, env);
    invariants.push(h.result);
    infoOps.push(...h.infoOps);
  }
  return { invariants, infoOps };
}
