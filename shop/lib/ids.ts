import { Snowflake } from '@sapphire/snowflake';
import { SHOP_EPOCH } from '../db/index.js';
import { SHOP_SERVICES, type TShopService } from '../config.js';

/**
 * Time-ordered 64-bit ids, returned as decimal strings. Worker id = instance
 * index, process id = the service's ordinal, so two live instances never
 * share a generator slot (4096 ids per ms each).
 */
export function createIdGenerator(service: TShopService, index: number): () => string {
  const sf = new Snowflake(SHOP_EPOCH);
  const workerId = BigInt(index);
  const processId = BigInt(SHOP_SERVICES.indexOf(service));
  return () => sf.generate({ workerId, processId }).toString();
}
