/**
 * HTTP faults live in the shop's fault middleware; the supervisor pushes
 * them to every instance of a service (and again after a restart).
 */
import { resolveService, supervisorOf } from './targets.js';
import type { THttpFaultBody } from './supervisor-api.js';
import type { TApplyContext, TFaultContext, TRemove, TUndo } from './types.js';
import { revertUndo } from './undo.js';

export async function validateHttpTarget(service: string, ctx: TFaultContext): Promise<void> {
  resolveService(service, await supervisorOf(ctx).instances(), ctx);
}

export async function pushHttpFault(body: THttpFaultBody, ctx: TApplyContext): Promise<TRemove> {
  const sup = supervisorOf(ctx);
  resolveService(body.service, await sup.instances(), ctx);
  const undo: TUndo = { httpFaults: [{ body }] };
  await ctx.recordUndo(undo);
  const { id } = await sup.addHttpFault(body);
  undo.httpFaults = [{ id, body }];
  await ctx.recordUndo(undo);
  return async () => {
    await revertUndo(undo, ctx, ctx.faultId);
  };
}
