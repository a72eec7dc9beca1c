/** Connection reset on an edge: after timeoutMs the connection is closed with a TCP RST (Toxiproxy `reset_peer`). */
import { ResetPeerSpecSchema } from './spec.js';
import { defineToxicFault } from './toxic-fault.js';

const fault = defineToxicFault({
  type: 'reset_peer',
  schema: ResetPeerSpecSchema,
  toxic: (p) => ({ type: 'reset_peer', attributes: { timeout: p.timeoutMs } }),
});

export const { type, schema, validate, apply } = fault;
export default fault;
