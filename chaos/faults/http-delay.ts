/** Add a delay to a percentage of a service's requests (optionally one route / method). */
import { HttpDelaySpecSchema, type TFaultSpecOf } from './spec.js';
import type { TFaultModule } from './types.js';
import { pushHttpFault, validateHttpTarget } from './http-fault.js';

const fault: TFaultModule<'http_delay'> = {
  type: 'http_delay',
  schema: HttpDelaySpecSchema,
  validate: (spec: TFaultSpecOf<'http_delay'>, ctx) => validateHttpTarget(spec.target, ctx),
  apply: (target, p, ctx) =>
    pushHttpFault({ service: target, route: p.route, method: p.method, kind: 'delay', delayMs: p.delayMs, percentage: p.percentage, at: p.at }, ctx),
};

export const { type, schema, validate, apply } = fault;
export default fault;
