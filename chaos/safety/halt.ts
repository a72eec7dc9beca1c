/**
 * Halt: remove every fault everywhere, recorded or not. The proxy is reset
 * (every toxic removed, every proxy re-enabled), paused instances resumed,
 * held instances started, all HTTP faults deleted, and every open ledger
 * row closed. The three sweeps run in parallel; a component that cannot be
 * reached is reported, never allowed to stop the others. A component that
 * answers too slowly (an overloaded proxy) is asked again until the halt's
 * budget is spent: the listing is only for the report, so a listing that
 * times out never keeps the reset from happening.
 *
 *   ┌─ proxy: list (for the report) ─▶ POST /reset ───────────┐
 *   ├─ supervisor: resume paused, start held, DELETE /http-faults ─┼─▶ close ledger rows whose
 *   └─ ledger: open rows ─┬────────────────────────────────────┘   components were swept
 *                         └─▶ rows elsewhere: undone one by one (revertUndo), each closed when undone
 *
 * "Elsewhere" is what the sweeps do not reach: toxics on a target's own
 * Toxiproxy, instances of a target's own supervisor, a target's process
 * commands (through `ctx.undoCommand`). Those are undone from their rows
 * only — another stack's faults on a shared Toxiproxy are never touched.
 */
import { inArray } from 'drizzle-orm';
import { AppError, toAppError } from '../../core/errors.js';
import { faults } from '../../db/schema/faults.js';
import { supervisorOf, toxiproxyOf } from '../faults/targets.js';
import type { TFaultContext, TUndo } from '../faults/types.js';
import { revertUndo } from '../faults/undo.js';
import { markFailed, markRemoved, openFaults, type TFaultRow } from './ledger.js';

/** Halt needs no run: the fault context minus run and expiry. */
export type THaltContext = Omit<TFaultContext, 'runId' | 'expiresAt'> & {
  /**
   * How long a sweep keeps retrying a component that times out (one that
   * refuses the connection is reported at once: it is down, not slow).
   * @defaultValue 15000
   */
  budgetMs?: number;
};

export interface THaltResult {
  /** Ledger rows closed by this halt. */
  removed: { id: string; type: string; target: string; runId: string | null }[];
  /** Every toxic found on the proxy before the reset. */
  toxics: { proxy: string; toxic: string; type: string }[];
  proxiesEnabled: string[];
  instancesResumed: string[];
  instancesStarted: string[];
  /** HTTP faults deleted (supervisor ids). */
  httpFaults: string[];
  /**
   * Components that could not be swept; their ledger rows stay open (status failed) for the reconciler.
   * `target`: one fault undone from its row (a target's Toxiproxy, supervisor or commands) failed; the message names it.
   */
  errors: { component: 'proxy' | 'supervisor' | 'ledger' | 'target'; message: string }[];
  /** Things that went wrong without stopping the halt (e.g. the toxic listing timed out: `toxics` is then incomplete). */
  warnings: string[];
  durationMs: number;
}

function needs(row: TFaultRow): { proxy: boolean; supervisor: boolean } {
  const u = (row.undo ?? {}) as TUndo;
  return {
    proxy: Object.keys(u.toxics ?? {}).length > 0 || (u.disabledProxies ?? []).length > 0,
    supervisor: (u.pausedInstances ?? []).length > 0 || (u.heldInstances ?? []).length > 0 || (u.httpFaults ?? []).length > 0,
  };
}

const sameUrl = (a: string | undefined, b: string) => a === undefined || a.replace(/\/+$/, '') === b.replace(/\/+$/, '');

/** Whether a row's fault is somewhere the sweeps do not reach, so it is undone from the row itself. */
function elsewhere(row: TFaultRow, c: TFaultContext): boolean {
  const u = (row.undo ?? {}) as TUndo;
  const n = needs(row);
  return (u.commands ?? []).length > 0 || (n.proxy && !sameUrl(u.toxiproxyUrl, c.toxiproxyUrl)) || (n.supervisor && !sameUrl(u.supervisorUrl, c.supervisorUrl));
}

/** Undo, one by one from their rows, the faults the sweeps do not reach; each row closed when undone, else left failed. */
async function undoElsewhere(rows: TFaultRow[], c: TFaultContext, result: THaltResult, undone: TFaultRow[]): Promise<void> {
  await Promise.all(
    rows
      .filter((row) => elsewhere(row, c))
      .map(async (row) => {
        try {
          const r = await revertUndo((row.undo ?? {}) as TUndo, c, row.id);
          await markRemoved(c.db, row.id);
          undone.push(row);
          result.proxiesEnabled.push(...r.proxiesEnabled);
          result.instancesResumed.push(...r.instancesResumed);
          result.instancesStarted.push(...r.instancesStarted);
          result.httpFaults.push(...r.httpFaultsRemoved);
        } catch (e) {
          const message = toAppError(e).message;
          await markFailed(c.db, row.id, message).catch(() => undefined);
          result.errors.push({ component: 'target', message: `fault ${row.id} (${row.type} ${row.target}): ${message}` });
        }
      }),
  );
}

/** Run an idempotent step again while it times out, until `deadline` (epoch ms). */
async function retryOnTimeout<T>(step: () => Promise<T>, deadline: number): Promise<T> {
  for (;;) {
    try {
      return await step();
    } catch (e) {
      if (!(e instanceof AppError && e.code === 'TIMEOUT') || Date.now() >= deadline) throw e;
    }
  }
}

/**
 * Remove every fault everywhere and say what was removed.
 * @param ctx `requestTimeoutMs` bounds each call (halt is meant to finish within a second; default 2000 ms).
 */
export async function haltAll(ctx: THaltContext): Promise<THaltResult> {
  const started = performance.now();
  const { budgetMs, ...fctx } = ctx;
  const c: TFaultContext = { ...fctx, requestTimeoutMs: ctx.requestTimeoutMs ?? 2000 };
  const deadline = Date.now() + (budgetMs ?? 15_000);
  const result: THaltResult = {
    removed: [],
    toxics: [],
    proxiesEnabled: [],
    instancesResumed: [],
    instancesStarted: [],
    httpFaults: [],
    errors: [],
    warnings: [],
    durationMs: 0,
  };

  const proxySweep = (async () => {
    const tp = toxiproxyOf(c);
    try {
      const proxies = await tp.list();
      for (const p of proxies.values()) {
        for (const t of p.toxics) result.toxics.push({ proxy: p.name, toxic: t.name, type: t.type });
        if (!p.enabled) result.proxiesEnabled.push(p.name);
      }
    } catch (e) {
      // Down (refused): the reset below fails the same way and is reported. Slow: reset anyway.
      if (!(e instanceof AppError && e.code === 'TIMEOUT')) throw e;
      result.warnings.push(`${e.message}; reset without listing (toxics removed are not listed)`);
    }
    await retryOnTimeout(() => tp.reset(), deadline);
  })();

  // Every step is idempotent (resume a running instance, delete no HTTP fault), so a slow supervisor is swept again whole.
  const supervisorSweep = retryOnTimeout(async () => {
    const sup = supervisorOf(c);
    const [instances, http] = await Promise.all([sup.instances(), sup.httpFaults()]);
    const errors: unknown[] = [];
    await Promise.all([
      ...instances
        .filter((i) => i.state === 'paused')
        .map((i) =>
          sup.resume(i.id).then(
            () => void result.instancesResumed.push(i.id),
            (e) => void errors.push(e),
          ),
        ),
      ...instances
        .filter((i) => i.state === 'stopped')
        .map((i) =>
          sup.start(i.id).then(
            () => void result.instancesStarted.push(i.id),
            (e) => void errors.push(e),
          ),
        ),
      http.length
        ? sup.removeAllHttpFaults().then(
            () => void result.httpFaults.push(...http.map((h) => h.id)),
            (e) => void errors.push(e),
          )
        : Promise.resolve(),
    ]);
    if (errors.length) throw errors[0];
  }, deadline);

  const rowsP = openFaults(c.db);
  const undoneElsewhere: TFaultRow[] = [];
  const elsewhereP = rowsP.then((rows) => undoElsewhere(rows, c, result, undoneElsewhere));
  const [proxyR, supR, rowsR] = await Promise.allSettled([proxySweep, supervisorSweep, rowsP, elsewhereP]);
  const proxyOk = proxyR.status === 'fulfilled';
  const supOk = supR.status === 'fulfilled';
  if (proxyR.status === 'rejected') result.errors.push({ component: 'proxy', message: toAppError(proxyR.reason).message });
  if (supR.status === 'rejected') result.errors.push({ component: 'supervisor', message: toAppError(supR.reason).message });
  if (rowsR.status === 'rejected') {
    result.errors.push({ component: 'ledger', message: toAppError(rowsR.reason).message });
  } else {
    const done: TFaultRow[] = [];
    const pending: TFaultRow[] = [];
    for (const row of rowsR.value) {
      if (elsewhere(row, c)) continue;
      const n = needs(row);
      if ((n.proxy && !proxyOk) || (n.supervisor && !supOk)) pending.push(row);
      else done.push(row);
    }
    try {
      const now = new Date();
      if (done.length) {
        await c.db
          .update(faults)
          .set({ status: 'removed', removedAt: now, error: null })
          .where(
            inArray(
              faults.id,
              done.map((r) => r.id),
            ),
          );
      }
      if (pending.length) {
        await c.db
          .update(faults)
          .set({ status: 'failed', error: `halt could not reach ${result.errors.map((e) => e.component).join(' and ')}` })
          .where(
            inArray(
              faults.id,
              pending.map((r) => r.id),
            ),
          );
      }
      result.removed = [...done, ...undoneElsewhere].map((r) => ({ id: r.id, type: r.type, target: r.target, runId: r.runId }));
    } catch (e) {
      result.errors.push({ component: 'ledger', message: toAppError(e).message });
    }
  }
  result.durationMs = Math.round((performance.now() - started) * 10) / 10;
  return result;
}
