/** Timeout on an edge: data stops; the connection closes after timeoutMs without data, or is held forever at 0 (Toxiproxy `timeout`). */
import { TimeoutSpecSchema } from './spec.js';
import { defineToxicFault } from './toxic-fault.js';

const fault = defineToxicFault({
  type: 'timeout',
  schema: TimeoutSpecSchema,
  toxic: (p) => ({ type: 'timeout', attributes: { timeout: p.timeoutMs } }),
});

export const { type, schema, validate, apply } = fault;
export default fault;
