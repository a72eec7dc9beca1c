/** Pause an instance (SIGSTOP through the supervisor): it keeps its sockets but answers nothing until resumed (SIGCONT). */
import { AppError } from '../../core/errors.js';
import { PauseSpecSchema, type TFaultSpecOf } from './spec.js';
import { resolveInstance, supervisorOf } from './targets.js';
import type { TFaultModule } from './types.js';
import { revertUndo } from './undo.js';

const fault: TFaultModule<'pause'> = {
  type: 'pause',
  schema: PauseSpecSchema,
  async validate(spec: TFaultSpecOf<'pause'>, ctx) {
    resolveInstance(spec.target, await supervisorOf(ctx).instances(), ctx);
  },
  async apply(target, _params, ctx) {
    const sup = supervisorOf(ctx);
    const inst = resolveInstance(target, await sup.instances(), ctx);
    if (inst.state !== 'running' && inst.state !== 'paused') {
      throw new AppError('CONFLICT', `instance "${target}" is ${inst.state}, not running`, {
        issues: [{ path: 'target', message: `instance "${target}" is ${inst.state}; only a running instance can be paused` }],
      });
    }
    const undo = { pausedInstances: [target] };
    await ctx.recordUndo(undo);
    await sup.pause(target);
    return async () => {
      await revertUndo(undo, ctx, ctx.faultId);
    };
  },
};

export const { type, schema, validate, apply } = fault;
export default fault;
