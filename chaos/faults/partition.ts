/**
 * Partition: several edges cut at once, in both directions. `blackhole`
 * holds connections open while no byte passes either way (what a dropped
 * route looks like to a client: timeouts); `down` refuses connections.
 */
import { PartitionSpecSchema, type TFaultSpecOf } from './spec.js';
import { loadNetworkView, resolveEdgePatterns } from './targets.js';
import { addToxics } from './toxic-fault.js';
import type { TFaultModule } from './types.js';
import { revertUndo } from './undo.js';
import { disableProxies } from './edge-down.js';

const fault: TFaultModule<'partition'> = {
  type: 'partition',
  schema: PartitionSpecSchema,
  async validate(spec: TFaultSpecOf<'partition'>, ctx) {
    resolveEdgePatterns(spec.target, await loadNetworkView(ctx), ctx);
  },
  async apply(target, params, ctx) {
    const proxies = resolveEdgePatterns(target, await loadNetworkView(ctx), ctx);
    if (params.mode === 'down') return disableProxies(proxies, ctx);
    const undo = await addToxics(proxies, ['upstream', 'downstream'], { type: 'timeout', attributes: { timeout: 0 }, toxicity: 1 }, ctx);
    return async () => {
      await revertUndo(undo, ctx, ctx.faultId);
    };
  },
};

export const { type, schema, validate, apply } = fault;
export default fault;
