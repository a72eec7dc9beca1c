/** Jitter on an edge: a latency toxic whose delay varies by ±jitterMs around latencyMs (default: jitterMs). */
import { JitterSpecSchema } from './spec.js';
import { defineToxicFault } from './toxic-fault.js';

const fault = defineToxicFault({
  type: 'jitter',
  schema: JitterSpecSchema,
  toxic: (p) => ({ type: 'latency', attributes: { latency: p.latencyMs ?? p.jitterMs, jitter: p.jitterMs } }),
});

export const { type, schema, validate, apply } = fault;
export default fault;
