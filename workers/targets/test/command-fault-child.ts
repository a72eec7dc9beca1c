/**
 * A runner in its own process for the command-fault crash test: applies one
 * process fault of a commands target through the target system (so the
 * ledger row is written the way a run writes it), prints its id, and waits
 * to be killed with SIGKILL, never removing it.
 */
import { getDb } from '../../../db/client.js';
import { loadTarget } from '../../../targets/index.js';
import type { TPlatform } from '../../platform.js';
import type { TRunnerDeps } from '../../runner/ports.js';
import { targetSystem } from '../../runner/target-system.js';

const file = process.env.FL_TARGET_FILE!;
const { target } = await loadTarget(file);
const sut = targetSystem(target, { toxiproxyUrl: process.env.FL_TOXIPROXY_URL! } as TPlatform, {} as TRunnerDeps, file);
const handle = await sut.applyFault(JSON.parse(process.env.FL_FAULT!), {
  ...sut.faultUrls,
  db: getDb(process.env.FL_DATABASE_URL!),
  runId: process.env.FL_RUN_ID!,
});
process.stdout.write(`applied ${handle.id}\n`);
setInterval(() => undefined, 60_000);
