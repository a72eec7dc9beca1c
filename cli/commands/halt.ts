/**
 * `faultline halt`: engage the safety lever (workers/runs/engage-lever.ts).
 * Every fault everywhere is removed (toxics, disabled proxies, paused or
 * held instances, HTTP faults, open ledger rows), every active run is
 * aborted with "halted by <by>: <reason>", and new runs, scheduled runs and
 * hand-applied faults are refused until `faultline halt --release`.
 * `--status` shows the lever and its history.
 *
 * Exit 0 when everything was reached, 2 when a component (proxy,
 * supervisor, ledger, Redis) could not be; a run or fault refused while
 * the lever is engaged exits 3 (AppError HALTED).
 */
import { userInfo } from 'node:os';
import type { Command } from 'commander';
import { Redis } from 'ioredis';
import { AppError } from '../../core/errors.js';
import { loadConfig } from '../../core/config.js';
import { closeDb, getDb } from '../../db/client.js';
import { parseAllowedHosts, type THaltContext, type THaltResult, type TLeverEvent, type TLeverState } from '../../chaos/index.js';
import { engageLever, leverStatus, releaseLever, type TEngageLeverResult } from '../../workers/index.js';
import { undoCommandFault } from '../../workers/targets/index.js';

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
    // `faults remove` of a target's process fault runs the target file's own undo command
    undoCommand: undoCommandFault,
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
  for (const w of r.warnings) lines.push(`warning: ${w}`);
  if (r.errors.length) {
    lines.push(`${n(r.errors.length, 'component')} not reached:`);
    for (const e of r.errors) lines.push(`  ${e.component}: ${e.message}`);
  }
  return lines.join('\n');
}

/** Who the CLI acts as when `--by` is not given: `cli:<OS user>`. */
export function defaultActor(): string {
  let name = process.env.USER || process.env.USERNAME || '';
  if (!name) {
    try {
      name = userInfo().username;
    } catch {
      name = 'unknown';
    }
  }
  return `cli:${name}`;
}

function leverLine(s: TLeverState): string {
  return s.engaged ? `safety lever ENGAGED by ${s.by} at ${s.at}: ${s.reason}` : 'safety lever released: runs and faults may start';
}

/** The engage report as text (pure). */
export function formatEngage(r: TEngageLeverResult): string {
  const lines = [
    r.alreadyEngaged ? `${leverLine(r.lever)} (already engaged; halted again)` : leverLine(r.lever),
    `new runs, scheduled runs and hand-applied faults are refused until: faultline halt --release`,
  ];
  lines.push(`active runs: ${r.runs.length}`);
  const what = {
    ended: 'ended aborted (was queued)',
    'abort-sent': 'abort sent to its runner',
    'abort-undelivered': 'no runner listening (the stall sweeper ends it)',
    error: 'not reached',
  };
  for (const x of r.runs) lines.push(`  ${x.id}  ${x.experimentName} (${x.state}): ${what[x.outcome]}${x.detail ? ` (${x.detail})` : ''}`);
  lines.push(formatHalt(r.halt));
  lines.push(`lever engaged, faults halted and runs told in ${r.durationMs} ms`);
  return lines.join('\n');
}

export function formatHistory(h: TLeverEvent[]): string {
  if (!h.length) return 'history: the lever was never engaged';
  return ['history (newest first):', ...h.map((e) => `  ${e.at}  ${e.action.padEnd(8)} by ${e.by}${e.reason ? `: ${e.reason}` : ''}`)].join('\n');
}

interface THaltFlags extends TFaultFlags {
  json?: boolean;
  reason?: string;
  by?: string;
  release?: boolean;
  status?: boolean;
  redisUrl?: string;
}

export function register(program: Command): void {
  addFaultFlags(
    program
      .command('halt')
      .description('engage the safety lever: remove every fault now, abort every active run, and refuse new runs and faults until `halt --release`'),
  )
    .option('--reason <text>', 'why (shown in the console and in every aborted run\'s reason; default "halted from the command line")')
    .option('--by <name>', 'who engages or releases it (default cli:<OS user>)')
    .option('--release', 'release the lever: runs and faults may start again')
    .option('--status', 'show the lever and its recent history')
    .option('--redis-url <url>', 'Redis the runners listen on for aborts (default REDIS_URL)')
    .option('--json', 'print the result as JSON')
    .action(async (flags: THaltFlags) => {
      if (flags.release && flags.status)
        throw new AppError('VALIDATION', 'give --release or --status, not both', { issues: [{ path: '--status', message: 'not with --release' }] });
      if (flags.redisUrl !== undefined && !/^rediss?:\/\/./.test(flags.redisUrl)) {
        throw new AppError('VALIDATION', 'invalid flags', {
          issues: [{ path: '--redis-url', message: `"${flags.redisUrl}" is not a URL like redis://127.0.0.1:6379` }],
        });
      }
      const ctx = faultContext(flags);
      const by = flags.by ?? defaultActor();
      const out = (text: string, json: unknown) => process.stdout.write(flags.json ? `${JSON.stringify(json, null, 2)}\n` : `${text}\n`);
      try {
        if (flags.status) {
          const s = await leverStatus({ db: ctx.db });
          out(`${leverLine(s.lever)}\n${formatHistory(s.history)}`, s);
          return;
        }
        if (flags.release) {
          const r = await releaseLever({ db: ctx.db }, { by, reason: flags.reason });
          out(
            r.released
              ? `safety lever released by ${by}; it was engaged by ${r.previous.engaged ? `${r.previous.by} at ${r.previous.at}: ${r.previous.reason}` : '?'}`
              : 'safety lever was not engaged; nothing to release',
            r,
          );
          return;
        }
        const cfg = loadConfig();
        // Not the platform's client: one attempt per command, so a Redis that is down costs
        // the bounded publish timeout, never a reconnect loop that keeps the CLI alive.
        const redis = new Redis(flags.redisUrl ?? cfg.REDIS_URL, { maxRetriesPerRequest: 1, connectTimeout: 2000, lazyConnect: true });
        redis.on('error', () => undefined);
        try {
          const r = await engageLever(
            {
              db: ctx.db,
              redis,
              prefix: process.env.FAULTLINE_PREFIX || 'faultline',
              toxiproxyUrl: ctx.toxiproxyUrl,
              supervisorUrl: ctx.supervisorUrl,
              allowedHosts: ctx.allowedHosts ?? parseAllowedHosts(cfg.FAULT_ALLOWED_HOSTS),
            },
            { reason: flags.reason ?? 'halted from the command line', by },
          );
          out(formatEngage(r), r);
          if (r.halt.errors.length || r.runs.some((x) => x.outcome === 'error')) process.exitCode = 2;
        } finally {
          redis.disconnect();
        }
      } finally {
        await closeDb(ctx.databaseUrl);
      }
    });
}
