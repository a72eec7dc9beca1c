/** Edge down: every proxy of the edge is disabled, so connections are refused (Toxiproxy `down`). */
import { EdgeDownSpecSchema, type TFaultSpecOf } from './spec.js';
import { loadNetworkView, resolveEdge, toxiproxyOf } from './targets.js';
import type { TApplyContext, TFaultModule, TRemove } from './types.js';
import type { TProxyInfo } from './toxiproxy-api.js';
import { revertUndo } from './undo.js';

/** Disable proxies (recorded first); shared with `partition` in `down` mode. */
export async function disableProxies(proxies: TProxyInfo[], ctx: TApplyContext): Promise<TRemove> {
  const undo = { disabledProxies: proxies.map((p) => p.name) };
  await ctx.recordUndo(undo);
  const tp = toxiproxyOf(ctx);
  await Promise.all(proxies.map((p) => tp.setEnabled(p.name, false)));
  return async () => {
    await revertUndo(undo, ctx, ctx.faultId);
  };
}

const fault: TFaultModule<'edge_down'> = {
  type: 'edge_down',
  schema: EdgeDownSpecSchema,
  async validate(spec: TFaultSpecOf<'edge_down'>, ctx) {
    resolveEdge(spec.target, await loadNetworkView(ctx), ctx);
  },
  async apply(target, _params, ctx) {
    return disableProxies(resolveEdge(target, await loadNetworkView(ctx), ctx), ctx);
  },
};

export const { type, schema, validate, apply } = fault;
export default fault;
