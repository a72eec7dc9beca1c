/**
 * Where a write request carries its own key — `header Idempotency-Key`, or a
 * JSON path into its JSON body (`$.transferId`) — as a scenario's and a target
 * file's `acknowledged[].key` both write it: the load records the key with
 * every attempt, and the history check looks writes up by it after the run.
 */
import { z } from 'zod';

export const WriteKeySchema = z
  .string()
  .regex(
    /^(header [A-Za-z0-9-]+|\$(\.[A-Za-z_][A-Za-z0-9_]*|\[\d+\])+)$/,
    'expected "header <name>" (e.g. "header Idempotency-Key") or a JSON path into the request body (e.g. "$.transferId")',
  );
