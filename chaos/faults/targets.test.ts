import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../core/errors.js';
import { loadNetworkView } from './targets.js';
import type { TFaultContext } from './types.js';

// A fault proxy that is down while the supervisor answers slowly: the proxy
// list fails first and must come back as one AppError, not an unhandled
// rejection (which crashed `faultline faults validate` with a stack trace).
describe('loadNetworkView with the fault proxy down', () => {
  let slow: Server;
  let closed: Server;
  let slowUrl = '';
  let closedUrl = '';

  beforeAll(async () => {
    slow = createServer((_req, res) => setTimeout(() => res.writeHead(503).end('{}'), 300));
    await new Promise<void>((r) => slow.listen(0, '127.0.0.1', r));
    slowUrl = `http://127.0.0.1:${(slow.address() as AddressInfo).port}`;
    closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    closedUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise<void>((r) => closed.close(() => r()));
  });
  afterAll(async () => {
    await new Promise<void>((r) => slow.close(() => r()));
  });

  it('rejects with UNAVAILABLE naming the fault proxy and leaves no unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown): void => {
      unhandled.push(e);
    };
    process.on('unhandledRejection', onUnhandled);
    try {
      const ctx = { toxiproxyUrl: closedUrl, supervisorUrl: slowUrl, db: undefined as never } as TFaultContext;
      const err = await loadNetworkView(ctx).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AppError);
      expect((err as AppError).code).toBe('UNAVAILABLE');
      expect((err as AppError).message).toContain(closedUrl);
      await new Promise((r) => setTimeout(r, 50));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
