/**
 * `faultline halt`: remove every fault everywhere (toxics, disabled
 * proxies, paused or held instances, HTTP faults, open ledger rows) and
 * print what was removed. Exit 0 when everything was reached, 2 otherwise.
 */
import type { Command } from 'commander';
import { AppError } from '../../core/errors.js';
import { loadConfig } from '../../core/config.js';
import { closeDb, getDb } from '../../db/client.js';
import { haltAll, type THaltContext, type THaltResult } from '../../chaos/index.js';

/** Flags shared by `halt` and `faults`: where the proxy, supervisor and ledger are. */
export interface TFaultFlags {
  toxiproxyUrl?: string;
  supervisorUrl?: string;
  databaseUrl?: string;
}

/** The three location flags must be URLs of the right kind: one issue per bad flag. */
export function checkFaultFlags(flags: TFaultFlags): void {
  const issues: { path: string; message: string }[] = [];
  const check = (flag: string, value: string | undefined, protocols: string[], example: string) => {
    if (value === undefined) return;
    const u = URL.canParse(value) ? new URL(value) : undefined;
    if (!u || !protocols.includes(u.protocol)) issues.push({ path: flag, message: `"${value}" is not a URL like ${example}` });
  };
  check('--toxiproxy-url', flags.toxiproxyUrl, ['http:', 'https:'], 'http://127.0.0.1:8474');
  check('--supervisor-url', flags.supervisorUrl, ['http:', 'https:'], 'http://127.0.0.1:8479');
  check('--database-url', flags.databaseUrl, ['postgres:', 'postgresql:'], 'postgres://postgres@127.0.0.1:5432/faultline');
  if (issues.length) throw new AppError('VALIDATION', 'invalid flags', { issues });
}

export function faultContext(flags: TFaultFlags): THaltContext & { databaseUrl: string } {
  checkFaultFlags(flags);
  const cfg = loadConfig();
  const databaseUrl = flags.databaseUrl ?? cfg.DATABASE_URL;
  return {
    toxiproxyUrl: flags.toxiproxyUrl ?? cfg.TOXIPROXY_URL,
    supervisorUrl: flags.supervisorUrl ?? cfg.SUPERVISOR_URL,
    db: getDb(databaseUrl),
    databaseUrl,
  };
}

export function addFaultFlags(cmd: Command): Command {
  return cmd
    .option('--toxiproxy-url <url>', 'fault proxy API (default TOXIPROXY_URL)')
    .option('--supervisor-url <url>', 'shop supervisor API (default SUPERVISOR_URL)')
    .option('--database-url <url>', 'platform database holding the fault ledger (default DATABASE_URL)');
}

/** The halt report as text (pure, so it is tested without servers). */
export function formatHalt(r: THaltResult): string {
  const lines: string[] = [];
  const n = (k: number, one: string, many = `${one}s`) => `${k} ${k === 1 ? one : many}`;
  lines.push(`halt finished in ${r.durationMs} ms${r.errors.length ? ' (with errors)' : ''}`);
  lines.push(`recorded faults closed: ${r.removed.length}`);
  for (const f of r.removed) lines.push(`  ${f.id}  ${f.type.padEnd(15)} ${f.target}${f.runId ? `  (run ${f.runId})` : ''}`);
  lines.push(`toxics removed: ${r.toxics.length}`);
  for (const t of r.toxics) lines.push(`  ${t.proxy}: ${t.toxic} (${t.type})`);
  lines.push(`proxies re-enabled: ${r.proxiesEnabled.length ? r.proxiesEnabled.join(', ') : 'none'}`);
  lines.push(`instances resumed: ${r.instancesResumed.length ? r.instancesResumed.join(', ') : 'none'}`);
  lines.push(`held instances started: ${r.instancesStarted.length ? r.instancesStarted.join(', ') : 'none'}`);
  lines.push(`HTTP faults removed: ${r.httpFaults.length ? r.httpFaults.join(', ') : 'none'}`);
  if (r.errors.length) {
    lines.push(`${n(r.errors.length, 'component')} not reached:`);
    for (const e of r.errors) lines.push(`  ${e.component}: ${e.message}`);
  }
  return lines.join('\n');
}

export function register(program: Command): void {
  addFaultFlags(
    program
      .command('halt')
      .description('remove every fault everywhere now (toxics, down proxies, paused/held instances, HTTP faults) and report what was removed'),
  )
    .option('--json', 'print the report as JSON')
    .action(async (flags: TFaultFlags & { json?: boolean }) => {
      const ctx = faultContext(flags);
      try {
        const r = await haltAll(ctx);
        process.stdout.write(flags.json ? `${JSON.stringify(r, null, 2)}\n` : `${formatHalt(r)}\n`);
        if (r.errors.length) process.exitCode = 2;
      } finally {
        await closeDb(ctx.databaseUrl);
      }
    });
}
