/**
 * The shop's public surface for the rest of faultline (supervisor, runner,
 * consistency checker, tests). Everything else in shop/ is internal.
 */
export {
  SHOP_SERVICES,
  SHOP_PORT_OFFSETS,
  SHOP_MAX_INSTANCES,
  SHOP_DEFAULT_PORT_BASE,
  SHOP_EDGE_LIST,
  SHOP_EDGE_NAMES,
  SHOP_BUGS,
  SHOP_BUG_DESCRIPTIONS,
  SHOP_DEFAULTS,
  shopPort,
  shopPortBase,
  instanceId,
  parseBugs,
  type TShopService,
  type TShopEdge,
  type TEdgeKind,
  type TShopBug,
} from './config.js';
export { LATENCY_BUCKETS } from './lib/metrics.js';
export { parseEdges, resolveUrl, resolveServiceAddress, EdgesSchema, type TEdges } from './lib/edges.js';
export { HttpFaultSchema, type THttpFault, type THttpFaultInput } from './lib/faults.js';
export { startService, optionsFromEnv, DEFAULT_SETTINGS, type TStartServiceOptions, type TRunningService, type TServiceSettings } from './lib/runtime.js';
export { migrateShop, seedShop, dropShopDatabase, SEED_USERS, SEED_PRODUCTS, SHOP_EPOCH } from './db/index.js';
export {
  SupervisorClient,
  SupervisorCallError,
  InstanceSchema,
  EdgeSchema,
  SupervisorLogLineSchema,
  type TInstance,
  type TInstanceState,
  type TEdge,
  type THttpFaultBody,
  type THttpFaultRow,
  type TSupervisorLogLine,
  type TLogPage,
  type TSupervisorClientOptions,
} from './supervisor/client.js';
export { startTestShop, type TStartTestShopOptions, type TTestShop, type TTestShopInstance } from './testing.js';

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TShopService } from './config.js';

/** Absolute path of a service's process entry (for the supervisor to spawn with tsx). */
export function serviceEntry(service: TShopService): string {
  return path.join(path.dirname(fileURLToPath(import.meta.url)), 'services', service, 'main.ts');
}
