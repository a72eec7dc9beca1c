/**
 * Apply one detached fault (like `faultline faults apply`, which outlives the
 * command) to the e2e stack, so the Halt-all spec has a fault to halt.
 * Usage: tsx e2e/apply-fault.ts '<fault spec JSON>' (env TOXIPROXY_URL, SUPERVISOR_URL, DATABASE_URL).
 */
import { applyFault, FaultSpecSchema } from '../chaos/index.js';
import { closeDb, getDb } from '../db/client.js';
import { parseWith } from '../core/validate.js';

const spec = parseWith(FaultSpecSchema, JSON.parse(process.argv[2] ?? '{}'), 'fault');
const f = await applyFault(spec, {
  toxiproxyUrl: process.env.TOXIPROXY_URL!,
  supervisorUrl: process.env.SUPERVISOR_URL!,
  db: getDb(process.env.DATABASE_URL),
  expiresAt: new Date(Date.now() + 5 * 60_000),
  detached: true,
});
process.stdout.write(`${f.id}\n`);
await closeDb();
