/** Data limit on an edge: each connection is closed after `bytes` bytes in the given direction (Toxiproxy `limit_data`). */
import { LimitDataSpecSchema } from './spec.js';
import { defineToxicFault } from './toxic-fault.js';

const fault = defineToxicFault({
  type: 'limit_data',
  schema: LimitDataSpecSchema,
  toxic: (p) => ({ type: 'limit_data', attributes: { bytes: p.bytes } }),
});

export const { type, schema, validate, apply } = fault;
export default fault;
