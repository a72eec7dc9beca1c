/**
 * The one error catalogue of the platform (STYLE.md): every failure a user
 * can see is an AppError with a code; one table maps codes to HTTP statuses
 * and CLI exit codes, so console, API and CLI answer the same way.
 */

export const ERROR_CODES = [
  'VALIDATION',
  'NOT_FOUND',
  'CONFLICT',
  'UNAUTHORIZED',
  'FORBIDDEN',
  'TARGET_NOT_ALLOWED',
  'BUSY',
  'UNAVAILABLE',
  'TIMEOUT',
  'TOO_LARGE',
  'TOO_MANY_REQUESTS',
  'HALTED',
  'INTERNAL',
] as const;

export type TErrorCode = (typeof ERROR_CODES)[number];

/** HTTP status and CLI exit code per error code. CLI: 2 = bad input or faultline's own error. */
export const ERROR_TABLE: Record<TErrorCode, { http: number; exit: number }> = {
  VALIDATION: { http: 400, exit: 2 },
  NOT_FOUND: { http: 404, exit: 2 },
  CONFLICT: { http: 409, exit: 2 },
  UNAUTHORIZED: { http: 401, exit: 2 },
  FORBIDDEN: { http: 403, exit: 2 },
  TARGET_NOT_ALLOWED: { http: 422, exit: 2 },
  BUSY: { http: 409, exit: 2 },
  UNAVAILABLE: { http: 503, exit: 2 },
  TIMEOUT: { http: 504, exit: 2 },
  TOO_LARGE: { http: 413, exit: 2 },
  // `details.retryAfterSeconds` becomes the Retry-After header (app/_lib/route.ts).
  TOO_MANY_REQUESTS: { http: 429, exit: 2 },
  // The safety lever is engaged (chaos/safety/lever.ts): 423 Locked, and its own exit
  // code so a CI gate can tell "refused by the lever" from a broken setup.
  HALTED: { http: 423, exit: 3 },
  INTERNAL: { http: 500, exit: 2 },
};

/** One field-level problem: `path` is the dotted field path (e.g. `faults.0.params.latencyMs`). */
export interface TFieldIssue {
  path: string;
  message: string;
  /** 1-based line in the source file when the input came from a file. */
  line?: number;
}

export class AppError extends Error {
  readonly code: TErrorCode;
  readonly issues: TFieldIssue[];
  readonly details?: Record<string, unknown>;

  constructor(code: TErrorCode, message: string, opts: { issues?: TFieldIssue[]; details?: Record<string, unknown>; cause?: unknown } = {}) {
    super(message, opts.cause !== undefined ? { cause: opts.cause } : undefined);
    this.name = 'AppError';
    this.code = code;
    this.issues = opts.issues ?? [];
    this.details = opts.details;
  }

  get httpStatus(): number {
    return ERROR_TABLE[this.code].http;
  }

  get exitCode(): number {
    return ERROR_TABLE[this.code].exit;
  }

  /** The JSON body every API route answers with on error. */
  toJSON(): { error: { code: TErrorCode; message: string; issues?: TFieldIssue[] } } {
    return { error: { code: this.code, message: this.message, ...(this.issues.length ? { issues: this.issues } : {}) } };
  }

  /** Human text for the CLI: the message, then one line per field issue. */
  toText(): string {
    const lines = [this.message];
    for (const i of this.issues) lines.push(`  ${i.line ? `line ${i.line}: ` : ''}${i.path || '(root)'}: ${i.message}`);
    return lines.join('\n');
  }
}

export function isAppError(e: unknown): e is AppError {
  return e instanceof AppError;
}

/** Error codes of a database (or any TCP service) that cannot be reached or refuses us: node's and PostgreSQL's. */
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ECONNRESET', '3D000', '28P01', '28000', '57P03']);

/**
 * drizzle wraps every driver error as "Failed query: <the SQL>\nparams: …"
 * with the real reason in `cause`: show the reason, never the SQL.
 */
function fromQueryError(e: Error): AppError | undefined {
  if (!e.message.startsWith('Failed query:') || !(e.cause instanceof Error)) return undefined;
  const cause = e.cause as Error & { code?: string };
  const reason =
    cause.message || (cause instanceof AggregateError ? cause.errors.map((x: Error) => x.message).join('; ') : '') || String(cause.code ?? 'unknown error');
  if (cause.code && UNREACHABLE_CODES.has(cause.code)) {
    return new AppError('UNAVAILABLE', `database not reachable: ${reason} (check DATABASE_URL / --database-url, and that PostgreSQL runs)`, { cause: e });
  }
  return new AppError('INTERNAL', `database query failed: ${reason}`, { cause: e });
}

/** Wrap anything thrown into an AppError without leaking a stack trace to users. */
export function toAppError(e: unknown): AppError {
  if (e instanceof AppError) return e;
  if (e instanceof Error) {
    const q = fromQueryError(e);
    if (q) return q;
    // Clients that may not import core (the shop's supervisor client) throw
    // an Error whose `code` is one of the catalogue's: keep it.
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && (ERROR_CODES as readonly string[]).includes(code)) return new AppError(code as TErrorCode, e.message, { cause: e });
  }
  const message = e instanceof Error ? e.message : String(e);
  return new AppError('INTERNAL', message, { cause: e });
}
