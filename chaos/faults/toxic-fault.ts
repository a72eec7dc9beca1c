/**
 * Network faults that are one Toxiproxy toxic per proxy and direction
 * (latency, bandwidth, timeout, ...). Each fault type states only how its
 * params become toxic attributes; resolution, recording and removal are
 * shared.
 *
 *   spec ─▶ resolve edge ─▶ proxies ─▶ record undo (toxic names) ─▶ add toxics
 *                                                   │
 *   remove() / reconciler / halt ◀── delete those toxics by name (404 = already gone)
 */
import type { z } from 'zod';
import type { TFaultSpecOf, TFaultType } from './spec.js';
import type { TToxicType } from './toxiproxy-api.js';
import { loadNetworkView, resolveEdge, toxiproxyOf } from './targets.js';
import type { TApplyContext, TFaultModule, TUndo } from './types.js';
import { revertUndo } from './undo.js';
import type { TProxyInfo } from './toxiproxy-api.js';

type TStream = 'upstream' | 'downstream';

/** Toxic name for a fault and direction: derived from the ledger id so any process can find it. */
export function toxicName(faultId: string, stream: TStream): string {
  return `${faultId}_${stream}`;
}

export function streamsOf(stream: 'upstream' | 'downstream' | 'both'): TStream[] {
  return stream === 'both' ? ['upstream', 'downstream'] : [stream];
}

/** Add one toxic per (proxy, direction), recording the names first so a crash mid-way leaves nothing unrecorded. */
export async function addToxics(
  proxies: TProxyInfo[],
  streams: TStream[],
  toxic: { type: TToxicType; attributes: Record<string, number>; toxicity: number },
  ctx: TApplyContext,
): Promise<TUndo> {
  const undo: TUndo = { toxics: {} };
  for (const p of proxies) undo.toxics![p.name] = streams.map((s) => toxicName(ctx.faultId, s));
  await ctx.recordUndo(undo);
  const tp = toxiproxyOf(ctx);
  await Promise.all(
    proxies.flatMap((p) =>
      streams.map((s) =>
        tp.addToxic(p.name, { name: toxicName(ctx.faultId, s), type: toxic.type, stream: s, toxicity: toxic.toxicity, attributes: toxic.attributes }),
      ),
    ),
  );
  return undo;
}

type TToxicParams = { stream: 'upstream' | 'downstream' | 'both'; toxicity: number };

export function defineToxicFault<T extends TFaultType>(def: {
  type: T;
  schema: z.ZodType<TFaultSpecOf<T>>;
  /** The toxic and its attributes for these params. */
  toxic: (params: TFaultSpecOf<T>['params']) => { type: TToxicType; attributes: Record<string, number> };
}): TFaultModule<T> {
  return {
    type: def.type,
    schema: def.schema,
    async validate(spec, ctx) {
      resolveEdge(spec.target as string, await loadNetworkView(ctx), ctx);
    },
    async apply(target, params, ctx) {
      const proxies = resolveEdge(target as string, await loadNetworkView(ctx), ctx);
      const p = params as TFaultSpecOf<T>['params'] & TToxicParams;
      const undo = await addToxics(proxies, streamsOf(p.stream), { ...def.toxic(p as never), toxicity: p.toxicity }, ctx);
      return async () => {
        await revertUndo(undo, ctx, ctx.faultId);
      };
    },
  };
}
