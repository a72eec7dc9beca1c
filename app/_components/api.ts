'use client';
/**
 * Browser side of the API: every call goes to our own server (never to the
 * fault proxy or the supervisor directly), mutations carry the CSRF token.
 */

export interface TApiIssue {
  path: string;
  message: string;
  line?: number;
}

export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
    readonly issues: TApiIssue[] = [],
  ) {
    super(message);
  }
}

export function csrfToken(): string {
  const m = /(?:^|;\s*)fl_csrf=([^;]+)/.exec(document.cookie);
  return m ? decodeURIComponent(m[1]) : '';
}

export async function api<T = unknown>(path: string, init: { method?: string; body?: unknown; signal?: AbortSignal } = {}): Promise<T> {
  const method = init.method ?? 'GET';
  const headers: Record<string, string> = { accept: 'application/json' };
  if (method !== 'GET') headers['x-csrf-token'] = csrfToken();
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  let r: Response;
  try {
    r = await fetch(path, {
      method,
      headers,
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
      signal: init.signal,
      credentials: 'same-origin',
    });
  } catch (e) {
    if ((e as Error).name === 'AbortError') throw e;
    throw new ApiError('UNAVAILABLE', 'the console server did not answer', 0);
  }
  const text = await r.text();
  let data: unknown = undefined;
  try {
    data = text ? JSON.parse(text) : undefined;
  } catch {
    /* non-JSON answer: reported below */
  }
  if (!r.ok) {
    const err = (data as { error?: { code?: string; message?: string; issues?: TApiIssue[] } })?.error;
    if (r.status === 401 && typeof window !== 'undefined' && !path.startsWith('/api/auth/login')) window.location.href = '/login';
    throw new ApiError(err?.code ?? 'INTERNAL', err?.message ?? `HTTP ${r.status}`, r.status, err?.issues ?? []);
  }
  return data as T;
}
