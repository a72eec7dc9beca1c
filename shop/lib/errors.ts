import type { z } from 'zod';

/** An error with an HTTP status and a stable code; rendered as `{error:{code,message}}`. */
export class ShopError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ShopError';
  }
}

/** Parse a request body/param with zod; a failure names every bad field (400 invalid_request). */
export function parseWith<S extends z.ZodType>(schema: S, value: unknown, what = 'body'): z.infer<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const msg = r.error.issues.map((i) => `${[what, ...i.path].join('.')}: ${i.message}`).join('; ');
  throw new ShopError(400, 'invalid_request', msg);
}
