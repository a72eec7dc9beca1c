/** Graceful restart of an instance through the supervisor; once it is back there is nothing to undo. */
import { RestartSpecSchema, type TFaultSpecOf } from './spec.js';
import { resolveInstance, supervisorOf } from './targets.js';
import type { TFaultModule } from './types.js';

const fault: TFaultModule<'restart'> = {
  type: 'restart',
  schema: RestartSpecSchema,
  async validate(spec: TFaultSpecOf<'restart'>, ctx) {
    resolveInstance(spec.target, await supervisorOf(ctx).instances(), ctx);
  },
  async apply(target, _params, ctx) {
    const sup = supervisorOf(ctx);
    resolveInstance(target, await sup.instances(), ctx);
    await sup.restart(target);
    return async () => {};
  },
};

export const { type, schema, validate, apply } = fault;
export default fault;
