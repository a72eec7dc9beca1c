/**
 * HTTP faults injected inside a service instance (driven by the supervisor
 * through /__admin/faults). Pure matching logic; the server applies them.
 */
import { z } from 'zod';

export const HttpFaultSchema = z
  .object({
    id: z.string().min(1).max(100).optional(),
    /** Route pattern (`/orders/:id`) or literal path; absent = every route. */
    route: z.string().min(1).optional(),
    method: z
      .string()
      .transform((s) => s.toUpperCase())
      .pipe(z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']))
      .optional(),
    kind: z.enum(['abort', 'delay']),
    /** Status answered by an abort. @defaultValue 503 */
    status: z.number().int().min(400).max(599).optional(),
    delayMs: z.number().int().min(0).max(600_000).optional(),
    /** Share of matching requests affected, 0..100. @defaultValue 100 */
    percentage: z.number().min(0).max(100).default(100),
    /**
     * When a delay happens: before the handler runs (`request`, the request
     * is slow to arrive) or after it ran (`response`, the work is done but
     * the answer is late — what makes a caller time out and retry a
     * completed call). @defaultValue 'request'
     */
    at: z.enum(['request', 'response']).default('request'),
  })
  .refine((f) => f.kind !== 'delay' || f.delayMs !== undefined, { message: 'delayMs is required for a delay fault', path: ['delayMs'] });

export type THttpFaultInput = z.input<typeof HttpFaultSchema>;
export type THttpFault = z.infer<typeof HttpFaultSchema> & { id: string };

/** Paths that faults never touch, so the platform can still observe and heal the instance. */
export function isControlPath(path: string): boolean {
  return path === '/health' || path === '/metrics' || path.startsWith('/__admin');
}

export function faultMatches(f: THttpFault, req: { method: string; routePattern: string | undefined; path: string }): boolean {
  if (f.method && f.method !== req.method.toUpperCase()) return false;
  if (f.route && f.route !== req.routePattern && f.route !== req.path) return false;
  return true;
}

/** Faults that hit this request, rolling each fault's percentage with `rand`. */
export function pickFaults(
  faults: Iterable<THttpFault>,
  req: { method: string; routePattern: string | undefined; path: string },
  rand: () => number = Math.random,
): THttpFault[] {
  const out: THttpFault[] = [];
  for (const f of faults) {
    if (faultMatches(f, req) && rand() * 100 < f.percentage) out.push(f);
  }
  return out;
}
