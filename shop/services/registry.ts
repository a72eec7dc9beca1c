/**
 * The service registry: every shop service's module, loaded on demand by the
 * runtime. Services depend on shop/lib/service-context.ts only, so runtime →
 * registry → service never loops back to the runtime.
 */
import type { TShopService } from '../config.js';
import type { TServiceModule } from '../lib/service-context.js';

export const SERVICE_MODULES: Record<TShopService, () => Promise<TServiceModule>> = {
  gateway: () => import('./gateway/service.js'),
  users: () => import('./users/service.js'),
  catalog: () => import('./catalog/service.js'),
  orders: () => import('./orders/service.js'),
  payments: () => import('./payments/service.js'),
};
