/** Abort a percentage of a service's requests (optionally one route / method) with an error status. */
import { HttpAbortSpecSchema, type TFaultSpecOf } from './spec.js';
import type { TFaultModule } from './types.js';
import { pushHttpFault, validateHttpTarget } from './http-fault.js';

const fault: TFaultModule<'http_abort'> = {
  type: 'http_abort',
  schema: HttpAbortSpecSchema,
  validate: (spec: TFaultSpecOf<'http_abort'>, ctx) => validateHttpTarget(spec.target, ctx),
  apply: (target, p, ctx) =>
    pushHttpFault({ service: target, route: p.route, method: p.method, kind: 'abort', status: p.status, percentage: p.percentage }, ctx),
};

export const { type, schema, validate, apply } = fault;
export default fault;
