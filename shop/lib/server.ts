/**
 * The fastify app every service instance runs: request ids, JSON errors,
 * request metrics and log lines, /health, /metrics, and the loopback-only
 * /__admin API (HTTP faults, run context).
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyRequest } from 'fastify';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { z } from 'zod';
import { ShopError, parseWith } from './errors.js';
import { HttpFaultSchema, isControlPath, pickFaults, type THttpFault } from './faults.js';
import type { TMetrics } from './metrics.js';
import type { TRunContext } from './logger.js';
import { requestContext } from './request-context.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Faults of kind delay/at=response chosen in onRequest, applied in onSend. */
    lateDelayMs?: number;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function isLoopback(addr: string | undefined): boolean {
  return addr === '127.0.0.1' || addr === '::1' || addr === '::ffff:127.0.0.1';
}

export interface TAppOptions {
  service: string;
  instance: string;
  log: Logger;
  metrics: TMetrics;
  context: TRunContext;
  /** Extra health detail (e.g. database reachable). */
  health?: () => Promise<Record<string, unknown>>;
}

/** Request ids in the async context, HTTP faults (abort, delay), and one metric and log line per request. */
function addRequestHooks(app: FastifyInstance, faults: Map<string, THttpFault>, { service, metrics }: TAppOptions): void {
  // Callback style on purpose: `done` runs inside the store, so the handler and
  // every outbound call it makes see this request's id.
  app.addHook('onRequest', (req, _reply, done) => {
    requestContext.run({ requestId: String(req.id) }, done);
  });

  app.addHook('onRequest', async (req, reply) => {
    reply.header('x-request-id', req.id);
    if (faults.size === 0 || isControlPath(req.url.split('?')[0])) return;
    const hit = pickFaults(faults.values(), { method: req.method, routePattern: req.routeOptions.url, path: req.url.split('?')[0] });
    for (const f of hit) {
      if (f.kind === 'delay') {
        if (f.at === 'response') req.lateDelayMs = (req.lateDelayMs ?? 0) + (f.delayMs ?? 0);
        else await sleep(f.delayMs ?? 0);
      }
    }
    const abort = hit.find((f) => f.kind === 'abort');
    if (abort) {
      req.log.info({ faultId: abort.id }, 'http fault: abort');
      throw new ShopError(abort.status ?? 503, 'fault_injected', `request aborted by HTTP fault ${abort.id}`);
    }
  });

  app.addHook('onSend', async (req) => {
    if (req.lateDelayMs) await sleep(req.lateDelayMs);
  });

  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    const status = reply.statusCode;
    metrics.httpServer.observe({ service, route, method: req.method, status: String(status) }, reply.elapsedTime / 1000);
    if (route === '/metrics' || route === '/health') return;
    const line = { method: req.method, route, status, durationMs: Math.round(reply.elapsedTime * 10) / 10 };
    if (status >= 500) req.log.warn(line, 'request failed');
    else req.log.info(line, 'request completed');
  });
}

/** JSON errors: `{"error":{"code","message"}}` for ShopErrors, client errors, 404s and anything unhandled. */
function addErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((err, req, reply) => {
    if (err instanceof ShopError) {
      for (const [k, v] of Object.entries(err.headers)) reply.header(k, v);
      return reply.status(err.status).send({ error: { code: err.code, message: err.message } });
    }
    const e = err as { statusCode?: number; code?: string; message: string };
    if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) {
      const code =
        e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' ? 'unsupported_media_type' : e.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? 'body_too_large' : 'invalid_request';
      return reply.status(e.statusCode).send({ error: { code, message: e.message } });
    }
    req.log.error({ err }, 'unhandled error');
    return reply.status(500).send({ error: { code: 'internal', message: 'internal error' } });
  });

  app.setNotFoundHandler((req, reply) => {
    reply.status(404).send({ error: { code: 'not_found', message: `no route ${req.method} ${req.url.split('?')[0]}` } });
  });
}

/** /health and /metrics. */
function addProbes(app: FastifyInstance, opts: TAppOptions): void {
  const { service, metrics } = opts;
  app.get('/health', async (_req, reply) => {
    const extra = opts.health ? await opts.health().catch((e: Error) => ({ ok: false, error: e.message })) : {};
    const ok = (extra as { ok?: boolean }).ok !== false;
    return reply.status(ok ? 200 : 503).send({ service, instance: opts.instance, ...extra, ok });
  });

  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });
}

/** The loopback-only admin API, driven by the supervisor: HTTP faults and the run context. */
function addAdminRoutes(app: FastifyInstance, faults: Map<string, THttpFault>, { log, context }: TAppOptions): void {
  const admin = async (req: FastifyRequest) => {
    if (!isLoopback(req.socket.remoteAddress)) throw new ShopError(403, 'forbidden', '/__admin is served on loopback only');
  };
  app.get('/__admin/faults', { onRequest: admin }, async () => ({ faults: [...faults.values()] }));
  app.post('/__admin/faults', { onRequest: admin }, async (req, reply) => {
    const f = parseWith(HttpFaultSchema, req.body);
    const fault: THttpFault = { ...f, id: f.id ?? randomUUID() };
    faults.set(fault.id, fault);
    log.info({ fault }, 'http fault added');
    return reply.status(201).send({ id: fault.id });
  });
  // Replace the whole set (the supervisor re-pushes after a restart).
  app.put('/__admin/faults', { onRequest: admin }, async (req) => {
    const list = parseWith(z.object({ faults: z.array(HttpFaultSchema) }), req.body);
    faults.clear();
    for (const f of list.faults) {
      const fault: THttpFault = { ...f, id: f.id ?? randomUUID() };
      faults.set(fault.id, fault);
    }
    log.info({ count: faults.size }, 'http faults replaced');
    return { faults: [...faults.values()] };
  });
  app.delete('/__admin/faults/:id', { onRequest: admin }, async (req) => {
    const { id } = req.params as { id: string };
    if (!faults.delete(id)) throw new ShopError(404, 'not_found', `no HTTP fault ${id}`);
    log.info({ faultId: id }, 'http fault removed');
    return { removed: id };
  });
  app.delete('/__admin/faults', { onRequest: admin }, async () => {
    const n = faults.size;
    faults.clear();
    if (n) log.info({ count: n }, 'http faults cleared');
    return { removed: n };
  });
  app.get('/__admin/context', { onRequest: admin }, async () => ({ runId: context.runId }));
  app.put('/__admin/context', { onRequest: admin }, async (req) => {
    const { runId } = parseWith(z.object({ runId: z.string().min(1).max(200).nullable() }), req.body);
    context.runId = runId;
    log.info({ runIdSet: runId }, runId ? 'run context set' : 'run context cleared');
    return { runId };
  });
}

export function createApp(opts: TAppOptions): { app: FastifyInstance; faults: Map<string, THttpFault> } {
  const faults = new Map<string, THttpFault>();
  const app: FastifyInstance = Fastify({
    loggerInstance: opts.log as FastifyBaseLogger,
    // We write one line per request ourselves (onResponse) with the route pattern and status.
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'requestId' }),
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    bodyLimit: 1024 * 1024,
    // The process may be under heavy load tests; keep sockets open between calls.
    keepAliveTimeout: 65_000,
  });
  addRequestHooks(app, faults, opts);
  addErrorHandlers(app);
  addProbes(app, opts);
  addAdminRoutes(app, faults, opts);
  return { app, faults };
}
