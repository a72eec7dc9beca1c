/**
 * The fault catalog drives instances, edges and HTTP faults through the
 * supervisor's own client (shop/supervisor/client.ts): one definition of
 * that API in the code base.
 */
export {
  SupervisorClient,
  type TInstance,
  type TInstanceState,
  type TEdge,
  type THttpFaultBody,
  type THttpFaultRow as THttpFault,
} from '../../shop/supervisor/client.js';
