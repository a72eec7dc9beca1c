/** The toxic registry: every toxic the fault proxy knows, by its API `type`. */
import { bandwidth } from './bandwidth.js';
import { latency } from './latency.js';
import { limitData } from './limit-data.js';
import { resetPeer } from './reset-peer.js';
import { slicer } from './slicer.js';
import { slowClose } from './slow-close.js';
import { timeout } from './timeout.js';
import type { TToxicModule } from './types.js';

export * from './types.js';

const modules: TToxicModule[] = [latency, bandwidth, slowClose, timeout, resetPeer, slicer, limitData] as unknown as TToxicModule[];

export const TOXICS: ReadonlyMap<string, TToxicModule> = new Map(modules.map((m) => [m.type, m]));

export function toxicModule(type: string): TToxicModule | undefined {
  return TOXICS.get(type);
}
