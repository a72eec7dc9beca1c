/**
 * One HTTP exchange over an undici keep-alive pool, timed the way k6 splits
 * it: waiting (send → response headers) and receiving (headers → body end);
 * duration = their sum. Unlike k6 the first request on a new connection also
 * includes the TCP connect (undici does not expose the split); with
 * keep-alive this affects one request per connection.
 */
import { performance } from 'node:perf_hooks';
import type { Dispatcher } from 'undici';

export interface THttpRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  headers?: Record<string, string>;
  body?: unknown;
  timeoutMs: number;
  signal: AbortSignal;
  /**
   * Parse the body of a successful response. When false, a 2xx/3xx body is
   * read and discarded (still timed as receiving); error bodies are always parsed.
   * @defaultValue true
   */
  readBody?: boolean;
}

export interface THttpResponse {
  /** 0 when no response arrived (network error, timeout, interrupted). */
  status: number;
  json: unknown;
  /** Error kind when the request failed without a response (`timeout`, `econnrefused`, ...). */
  errorKind?: string;
  errorMessage?: string;
  /** Aborted by the executor (gracefulStop / abort): k6 emits no metrics for it. */
  interrupted: boolean;
  /** performance.now() stamps. */
  tStart: number;
  tHeaders: number;
  tEnd: number;
}

/** Map a thrown network error to a short, stable kind used in `errorsByKind`. */
export function networkErrorKind(e: unknown): string {
  const code = (e as { code?: string })?.code ?? '';
  const cause = (e as { cause?: { code?: string } })?.cause?.code ?? '';
  const c = code || cause;
  if (c === 'UND_ERR_HEADERS_TIMEOUT' || c === 'UND_ERR_BODY_TIMEOUT' || c === 'UND_ERR_CONNECT_TIMEOUT' || c === 'ETIMEDOUT') return 'timeout';
  if (c === 'ECONNREFUSED') return 'econnrefused';
  if (c === 'ECONNRESET' || c === 'UND_ERR_SOCKET' || c === 'EPIPE') return 'econnreset';
  if (c === 'ENOTFOUND' || c === 'EAI_AGAIN') return 'dns';
  return 'network';
}

export async function send(d: Dispatcher, req: THttpRequest): Promise<THttpResponse> {
  const headers: Record<string, string> = { accept: 'application/json', ...req.headers };
  let body: string | undefined;
  if (req.body !== undefined) {
    body = JSON.stringify(req.body);
    headers['content-type'] = 'application/json';
  }
  const tStart = performance.now();
  let tHeaders = tStart;
  try {
    const res = await d.request({
      path: req.path,
      method: req.method,
      headers,
      body,
      signal: req.signal,
      headersTimeout: req.timeoutMs,
      bodyTimeout: req.timeoutMs,
    });
    tHeaders = performance.now();
    if (req.readBody === false && res.statusCode < 400) {
      await res.body.dump({ limit: Number.MAX_SAFE_INTEGER });
      return { status: res.statusCode, json: undefined, interrupted: false, tStart, tHeaders, tEnd: performance.now() };
    }
    const text = await res.body.text();
    const tEnd = performance.now();
    let json: unknown = undefined;
    if (text) {
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
    }
    return { status: res.statusCode, json, interrupted: false, tStart, tHeaders, tEnd };
  } catch (e) {
    const tEnd = performance.now();
    if (req.signal.aborted)
      return { status: 0, json: undefined, interrupted: true, errorKind: 'interrupted', errorMessage: 'interrupted', tStart, tHeaders: tEnd, tEnd };
    return { status: 0, json: undefined, interrupted: false, errorKind: networkErrorKind(e), errorMessage: (e as Error).message, tStart, tHeaders: tEnd, tEnd };
  }
}
