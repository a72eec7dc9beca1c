/** Slow close on an edge: the close of a connection is delayed by delayMs (Toxiproxy `slow_close`). */
import { SlowCloseSpecSchema } from './spec.js';
import { defineToxicFault } from './toxic-fault.js';

const fault = defineToxicFault({
  type: 'slow_close',
  schema: SlowCloseSpecSchema,
  toxic: (p) => ({ type: 'slow_close', attributes: { delay: p.delayMs } }),
});

export const { type, schema, validate, apply } = fault;
export default fault;
