/** Latency on an edge: every chunk is delayed by latencyMs ± jitterMs (Toxiproxy `latency`). */
import { LatencySpecSchema } from './spec.js';
import { defineToxicFault } from './toxic-fault.js';

const fault = defineToxicFault({
  type: 'latency',
  schema: LatencySpecSchema,
  toxic: (p) => ({ type: 'latency', attributes: { latency: p.latencyMs, jitter: p.jitterMs } }),
});

export const { type, schema, validate, apply } = fault;
export default fault;
