import pino, { type Logger, type DestinationStream } from 'pino';

/** Mutable per-instance run context; `runId` is added to every log line while set. */
export interface TRunContext {
  runId: string | null;
}

/**
 * JSON log lines with the contract fields: time (ISO), level (label),
 * service, instance, msg, requestId (request-scoped lines), runId (while a run is active).
 */
export function createLogger(opts: { service: string; instance: string; level?: string; destination?: DestinationStream; context: TRunContext }): Logger {
  return pino(
    {
      level: opts.level ?? 'info',
      base: { service: opts.service, instance: opts.instance },
      timestamp: pino.stdTimeFunctions.isoTime,
      messageKey: 'msg',
      formatters: { level: (label) => ({ level: label }) },
      mixin: () => (opts.context.runId ? { runId: opts.context.runId } : {}),
    },
    opts.destination ?? pino.destination({ fd: 1, sync: false }),
  );
}
