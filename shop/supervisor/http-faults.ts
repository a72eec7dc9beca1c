/**
 * HTTP faults held by the supervisor and pushed to the instances. The
 * supervisor is the source of truth: each push sends a service's complete
 * fault list, so an instance that restarted (and forgot everything) is made
 * whole again by one push, and a lost push is repaired by the next.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { SHOP_SERVICES, type TShopService } from '../config.js';
import { HttpFaultSchema } from '../lib/faults.js';
import { SupervisorError, type TSupervisorIssue } from './errors.js';

/**
 * `POST /http-faults` body: the instance-side fault (shop/lib/faults.ts, one
 * schema for both ends) plus the service it targets.
 */
export function parseHttpFaultInput(body: unknown): TNewHttpFault {
  const issues: TSupervisorIssue[] = [];
  const obj = (body && typeof body === 'object' && !Array.isArray(body) ? body : {}) as Record<string, unknown>;
  if (!body || typeof body !== 'object' || Array.isArray(body)) issues.push({ path: '', message: 'expected a JSON object' });
  const svc = z.enum(SHOP_SERVICES).safeParse(obj.service);
  if (!svc.success) issues.push({ path: 'service', message: `expected one of ${SHOP_SERVICES.join(', ')}` });
  const { service: _service, id: _id, ...rest } = obj;
  const f = HttpFaultSchema.safeParse(rest);
  if (!f.success) for (const i of f.error.issues) issues.push({ path: i.path.join('.'), message: i.message });
  if (issues.length || !svc.success || !f.success) throw new SupervisorError('VALIDATION', 'invalid HTTP fault', issues);
  return { ...f.data, service: svc.data };
}

export type TNewHttpFault = z.output<typeof HttpFaultSchema> & { service: TShopService };
export type THttpFault = TNewHttpFault & { id: string; createdAt: string };

export class HttpFaultStore {
  private readonly faults = new Map<string, THttpFault>();

  add(input: TNewHttpFault): THttpFault {
    const f: THttpFault = { ...input, id: randomUUID(), createdAt: new Date().toISOString() };
    this.faults.set(f.id, f);
    return f;
  }

  remove(id: string): THttpFault | undefined {
    const f = this.faults.get(id);
    this.faults.delete(id);
    return f;
  }

  clear(): THttpFault[] {
    const all = [...this.faults.values()];
    this.faults.clear();
    return all;
  }

  list(): THttpFault[] {
    return [...this.faults.values()];
  }

  forService(service: TShopService | string): THttpFault[] {
    return this.list().filter((f) => f.service === service);
  }
}
