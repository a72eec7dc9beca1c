/**
 * The supervisor's admin API (docs/architecture.md "Supervisor admin API"),
 * served on loopback. Handlers are thin: parse → one call on the supervisor
 * → JSON. Errors answer `{error:{code,message,issues?}}`.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { z } from 'zod';
import { SupervisorError, isSupervisorError } from './errors.js';
import type { TSupervisorControl } from './supervisor.js';

const KillBodySchema = z
  .object({
    /** Keep the instance down this long before restarting it. */
    hold: z.number().int().min(0).max(3_600_000).optional(),
  })
  .strict();

const ContextBodySchema = z.object({ runId: z.string().min(1).max(200).nullable() }).strict();

const LogsQuerySchema = z.object({
  after: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(10_000).default(1000),
});

function parse<S extends z.ZodType>(schema: S, input: unknown, what: string): z.infer<S> {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  throw new SupervisorError(
    'VALIDATION',
    `invalid ${what}`,
    r.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
  );
}

export function buildAdminApi(sup: TSupervisorControl): FastifyInstance {
  const app = Fastify({ logger: false, bodyLimit: 1 << 20 });

  // Bodies are JSON whatever the content type says (`curl -d` sends form encoding);
  // an empty POST body (curl -X POST .../pause) is fine: treat it as {}.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => {
    const text = String(body ?? '');
    if (text.trim() === '') return done(null, {});
    try {
      done(null, JSON.parse(text));
    } catch (e) {
      done(new SupervisorError('VALIDATION', `request body is not valid JSON: ${(e as Error).message}`), undefined);
    }
  });

  app.setErrorHandler((err, _req, reply) => {
    if (isSupervisorError(err)) return reply.status(err.status).send(err.toJSON());
    const e = err as { statusCode?: number; message?: string };
    const status = e.statusCode;
    const message = e.message ?? String(err);
    if (status && status >= 400 && status < 500) {
      return reply.status(status).send({ error: { code: status === 404 ? 'NOT_FOUND' : 'VALIDATION', message } });
    }
    return reply.status(500).send({ error: { code: 'INTERNAL', message } });
  });
  app.setNotFoundHandler((req, reply) => {
    reply.status(404).send({ error: { code: 'NOT_FOUND', message: `no route ${req.method} ${req.url}` } });
  });

  app.get('/health', async () => ({ ok: true }));
  app.get('/instances', async () => sup.instances());
  app.get<{ Params: { id: string } }>('/instances/:id', async (req) => sup.instance(req.params.id));
  app.post<{ Params: { id: string } }>('/instances/:id/kill', async (req) => {
    const body = parse(KillBodySchema, req.body ?? {}, 'kill body');
    return sup.kill(req.params.id, body.hold);
  });
  app.post<{ Params: { id: string } }>('/instances/:id/pause', async (req) => sup.pause(req.params.id));
  app.post<{ Params: { id: string } }>('/instances/:id/resume', async (req) => sup.resume(req.params.id));
  app.post<{ Params: { id: string } }>('/instances/:id/restart', async (req) => sup.restart(req.params.id));
  app.post<{ Params: { id: string } }>('/instances/:id/start', async (req) => sup.start(req.params.id));

  app.get('/edges', async () => sup.edges());

  // Prometheus HTTP service discovery (dashboards/prometheus/prometheus.yml): every
  // instance, down ones included, so a killed instance shows as up == 0 instead of vanishing.
  app.get('/sd/prometheus', async () => sup.instances().map((i) => ({ targets: [new URL(i.url).host], labels: { service: i.service, instance: i.id } })));

  app.get('/http-faults', async () => sup.httpFaults());
  app.post('/http-faults', async (req, reply) => {
    const r = await sup.addHttpFault(req.body);
    return reply.status(201).send(r);
  });
  app.delete<{ Params: { id: string } }>('/http-faults/:id', async (req) => sup.removeHttpFault(req.params.id));
  app.delete('/http-faults', async () => sup.clearHttpFaults());

  app.get('/context', async () => sup.context());
  app.put('/context', async (req) => {
    const body = parse(ContextBodySchema, req.body ?? {}, 'context body');
    return sup.setContext(body.runId);
  });

  app.get('/logs', async (req) => {
    const q = parse(LogsQuerySchema, req.query ?? {}, 'logs query');
    return sup.logs(q.after, q.limit);
  });

  return app;
}
