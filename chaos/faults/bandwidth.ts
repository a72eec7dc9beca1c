/** Bandwidth cap on an edge, in KB/s (1 KB = 1000 B) (Toxiproxy `bandwidth`). */
import { BandwidthSpecSchema } from './spec.js';
import { defineToxicFault } from './toxic-fault.js';

const fault = defineToxicFault({
  type: 'bandwidth',
  schema: BandwidthSpecSchema,
  toxic: (p) => ({ type: 'bandwidth', attributes: { rate: p.rateKBps } }),
});

export const { type, schema, validate, apply } = fault;
export default fault;
