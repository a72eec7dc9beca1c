/**
 * Undo what a fault did, from its recorded TUndo alone: the same code
 * serves a fault's own `remove()`, the reconciler after a crash and a halt.
 * Every step is idempotent (a toxic already gone, an instance already
 * running) and every step is tried even when an earlier one failed.
 * Toxics and instances are undone where the row says they are (its
 * `toxiproxyUrl` / `supervisorUrl`, a target's own), still under the
 * allowlist; a target's commands only through `ctx.undoCommand`.
 */
import { AppError, toAppError } from '../../core/errors.js';
import { claimedByOthers } from '../safety/ledger.js';
import type { THttpFault, THttpFaultBody } from './supervisor-api.js';
import { supervisorOf, toxiproxyOf } from './targets.js';
import type { TFaultContext, TUndo } from './types.js';

/** What a revert actually changed. */
export interface TRevertResult {
  toxicsRemoved: { proxy: string; toxic: string }[];
  proxiesEnabled: string[];
  instancesResumed: string[];
  instancesStarted: string[];
  httpFaultsRemoved: string[];
}

function sameHttpFault(a: THttpFault, b: THttpFaultBody): boolean {
  return (
    a.service === b.service &&
    a.kind === b.kind &&
    (a.route ?? null) === (b.route ?? null) &&
    (a.method ?? null) === (b.method ?? null) &&
    (a.status ?? null) === (b.status ?? null) &&
    (a.delayMs ?? null) === (b.delayMs ?? null) &&
    a.percentage === b.percentage &&
    (a.kind !== 'delay' || (a.at ?? 'request') === (b.at ?? 'request'))
  );
}

/**
 * Resume or start an instance, unless another remover (a halt beside the run's own
 * removal, the reconciler) did it between our read and our call: the supervisor then
 * refuses with CONFLICT, and an instance no longer in the `from` state is undone.
 * `false` when it was done meanwhile.
 */
async function unlessDoneMeanwhile(
  sup: ReturnType<typeof supervisorOf>,
  id: string,
  from: 'paused' | 'stopped',
  call: () => Promise<unknown>,
): Promise<boolean> {
  try {
    await call();
    return true;
  } catch (e) {
    if (toAppError(e).code !== 'CONFLICT') throw e;
    const now = (await sup.instances()).find((i) => i.id === id)?.state;
    if (now === from) throw e;
    return false;
  }
}

export async function revertUndo(undo: TUndo, ctx: TFaultContext, faultId: string): Promise<TRevertResult> {
  const result: TRevertResult = { toxicsRemoved: [], proxiesEnabled: [], instancesResumed: [], instancesStarted: [], httpFaultsRemoved: [] };
  const errors: string[] = [];
  const attempt = async (what: string, fn: () => Promise<void>) => {
    try {
      await fn();
    } catch (e) {
      errors.push(`${what}: ${e instanceof Error ? e.message : String(e)}`);
    }
  };
  const steps: Promise<void>[] = [];

  const toxics = Object.entries(undo.toxics ?? {});
  const disabled = undo.disabledProxies ?? [];
  if (toxics.length || disabled.length) {
    const tp = toxiproxyOf({ ...ctx, toxiproxyUrl: undo.toxiproxyUrl ?? ctx.toxiproxyUrl });
    for (const [proxy, names] of toxics) {
      for (const toxic of names) {
        steps.push(
          attempt(`remove toxic ${toxic} from ${proxy}`, async () => {
            try {
              if (await tp.removeToxic(proxy, toxic)) result.toxicsRemoved.push({ proxy, toxic });
            } catch (e) {
              // The proxy itself is gone (shop torn down): nothing left to undo there.
              if (!(e instanceof AppError && e.code === 'NOT_FOUND')) throw e;
            }
          }),
        );
      }
    }
    if (disabled.length) {
      steps.push(
        attempt('re-enable proxies', async () => {
          const claimed = await claimedByOthers(ctx.db, faultId, 'disabledProxies');
          const current = await tp.list();
          await Promise.all(
            disabled
              .filter((p) => !claimed.has(p) && current.get(p)?.enabled === false)
              .map(async (p) => {
                await tp.setEnabled(p, true);
                result.proxiesEnabled.push(p);
              }),
          );
        }),
      );
    }
  }

  const paused = undo.pausedInstances ?? [];
  const held = undo.heldInstances ?? [];
  const http = undo.httpFaults ?? [];
  if (paused.length || held.length || http.length) {
    const sup = supervisorOf({ ...ctx, supervisorUrl: undo.supervisorUrl ?? ctx.supervisorUrl });
    if (paused.length || held.length) {
      steps.push(
        attempt('resume/start instances', async () => {
          const claimed = paused.length ? await claimedByOthers(ctx.db, faultId, 'pausedInstances') : new Set<string>();
          const instances = await sup.instances();
          const state = new Map(instances.map((i) => [i.id, i.state]));
          await Promise.all([
            ...paused
              .filter((id) => !claimed.has(id) && state.get(id) === 'paused')
              .map(async (id) => {
                if (await unlessDoneMeanwhile(sup, id, 'paused', () => sup.resume(id))) result.instancesResumed.push(id);
              }),
            // A held instance still `stopped` is started now; one the
            // supervisor already brought back is left alone.
            ...held
              .filter((id) => state.get(id) === 'stopped')
              .map(async (id) => {
                if (await unlessDoneMeanwhile(sup, id, 'stopped', () => sup.start(id))) result.instancesStarted.push(id);
              }),
          ]);
        }),
      );
    }
    if (http.length) {
      steps.push(
        attempt('remove HTTP faults', async () => {
          const withoutId = http.filter((h) => !h.id).map((h) => h.body);
          const ids = new Set(http.flatMap((h) => (h.id ? [h.id] : [])));
          if (withoutId.length) {
            // The POST may have landed before its id was recorded: find it by body.
            for (const f of await sup.httpFaults()) if (withoutId.some((b) => sameHttpFault(f, b))) ids.add(f.id);
          }
          await Promise.all(
            [...ids].map(async (id) => {
              if (await sup.removeHttpFault(id)) result.httpFaultsRemoved.push(id);
            }),
          );
        }),
      );
    }
  }

  for (const c of undo.commands ?? []) {
    steps.push(
      attempt(`${c.fault === 'pause' ? 'resume' : 'bring back'} ${c.instance} (${c.targetFile})`, async () => {
        if (!ctx.undoCommand)
          throw new AppError(
            'UNAVAILABLE',
            'a target command fault is undone by a faultline worker or the safety lever (this process cannot run target commands)',
          );
        const done = await ctx.undoCommand(c);
        if (done === 'resumed') result.instancesResumed.push(c.instance);
        if (done === 'started') result.instancesStarted.push(c.instance);
      }),
    );
  }

  await Promise.all(steps);
  if (errors.length) {
    throw new AppError('UNAVAILABLE', `fault ${faultId} could not be fully removed: ${errors.join('; ')}`, {
      details: { errors, partial: result },
    });
  }
  return result;
}
