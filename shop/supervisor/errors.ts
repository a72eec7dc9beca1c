/**
 * Errors of the supervisor. The shop imports nothing of the platform, so this
 * is a small mirror of core's AppError: a code (same names as core's
 * catalogue), an HTTP status for the admin API, and field issues. The CLI
 * turns it into an AppError.
 */
export type TSupervisorErrorCode = 'VALIDATION' | 'NOT_FOUND' | 'CONFLICT' | 'UNAVAILABLE' | 'TIMEOUT' | 'INTERNAL';

const STATUS: Record<TSupervisorErrorCode, number> = {
  VALIDATION: 400,
  NOT_FOUND: 404,
  CONFLICT: 409,
  UNAVAILABLE: 503,
  TIMEOUT: 504,
  INTERNAL: 500,
};

export interface TSupervisorIssue {
  path: string;
  message: string;
}

export class SupervisorError extends Error {
  readonly code: TSupervisorErrorCode;
  readonly issues: TSupervisorIssue[];

  constructor(code: TSupervisorErrorCode, message: string, issues: TSupervisorIssue[] = []) {
    super(message);
    this.name = 'SupervisorError';
    this.code = code;
    this.issues = issues;
  }

  get status(): number {
    return STATUS[this.code];
  }

  toJSON(): { error: { code: string; message: string; issues?: TSupervisorIssue[] } } {
    return { error: { code: this.code, message: this.message, ...(this.issues.length ? { issues: this.issues } : {}) } };
  }
}

export function isSupervisorError(e: unknown): e is SupervisorError {
  return e instanceof SupervisorError;
}
