/**
 * The collectors read instances, the log stream and set the run context
 * through the supervisor's own client (shop/supervisor/client.ts): one
 * definition of that API in the code base.
 */
export {
  SupervisorClient,
  InstanceSchema,
  SupervisorLogLineSchema,
  type TInstance,
  type TSupervisorLogLine,
  type TSupervisorClientOptions as SupervisorClientOptions,
} from '../../shop/supervisor/client.js';
