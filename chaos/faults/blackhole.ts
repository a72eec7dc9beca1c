/** Blackhole on an edge: no byte passes and connections are held open (a `timeout` toxic of 0, both directions by default). */
import { BlackholeSpecSchema } from './spec.js';
import { defineToxicFault } from './toxic-fault.js';

const fault = defineToxicFault({
  type: 'blackhole',
  schema: BlackholeSpecSchema,
  toxic: () => ({ type: 'timeout', attributes: { timeout: 0 } }),
});

export const { type, schema, validate, apply } = fault;
export default fault;
