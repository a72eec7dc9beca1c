/**
 * Kill an instance with SIGKILL through the supervisor, which restarts it
 * (after `holdMs` when given). Removing a held kill starts the instance
 * early; removing an unheld kill has nothing left to undo.
 */
import { KillSpecSchema, type TFaultSpecOf } from './spec.js';
import { resolveInstance, supervisorOf } from './targets.js';
import type { TApplyContext, TFaultModule, TRemove } from './types.js';
import { revertUndo } from './undo.js';

/** Kill instances (recording held ones first); shared with `kill_percentage`. */
export async function killInstances(ids: string[], holdMs: number | undefined, ctx: TApplyContext): Promise<TRemove> {
  const undo = holdMs ? { heldInstances: ids } : {};
  if (holdMs) await ctx.recordUndo(undo);
  const sup = supervisorOf(ctx);
  await Promise.all(ids.map((id) => sup.kill(id, holdMs)));
  return async () => {
    await revertUndo(undo, ctx, ctx.faultId);
  };
}

const fault: TFaultModule<'kill'> = {
  type: 'kill',
  schema: KillSpecSchema,
  async validate(spec: TFaultSpecOf<'kill'>, ctx) {
    resolveInstance(spec.target, await supervisorOf(ctx).instances(), ctx);
  },
  async apply(target, params, ctx) {
    resolveInstance(target, await supervisorOf(ctx).instances(), ctx);
    return killInstances([target], params.holdMs, ctx);
  },
};

export const { type, schema, validate, apply } = fault;
export default fault;
