/**
 * `faultline faults list|validate|apply|remove`: the fault catalog by hand.
 * A fault applied here outlives the command (it is detached), so it must
 * carry an expiry (`--for`, default 10m) after which the reconciler removes
 * it; `faultline halt` removes it at once.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { FAULTLINE_DURATION, parseDuration as parseDurationText } from '../../core/duration.js';
import { AppError } from '../../core/errors.js';
import { parseYamlWith } from '../../core/validate.js';
import { closeDb } from '../../db/client.js';
import { migratePlatformDatabase } from '../run-env.js';
import { FAULT_TYPES, FaultSpecSchema, applyFault, openFaults, recentFaults, removeFault, validateFault, type TFaultRow } from '../../chaos/index.js';
import { addFaultFlags, faultContext, type TFaultFlags } from './halt.js';

/** `500ms`, `30s`, `10m`, `1h` → milliseconds (core/duration); AppError naming `field` otherwise. */
export function parseDuration(text: string, field: string): number {
  const ms = parseDurationText(text, FAULTLINE_DURATION);
  if (ms === undefined || ms <= 0 || /^\s*\d+(\.\d+)?\s*$/.test(text)) {
    throw new AppError('VALIDATION', `invalid ${field}`, { issues: [{ path: field, message: `"${text}" is not a duration like 500ms, 30s, 10m or 1h` }] });
  }
  return ms;
}

/**
 * `latencyMs=200 stream=both route=/checkout` → params object; numbers and
 * booleans are converted so the fault schema sees typed values.
 */
export function parseParamArgs(args: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  args.forEach((a, i) => {
    const eq = a.indexOf('=');
    if (eq <= 0) {
      throw new AppError('VALIDATION', 'invalid fault parameter', {
        issues: [{ path: `params.${i}`, message: `"${a}" is not key=value (e.g. latencyMs=200)` }],
      });
    }
    const key = a.slice(0, eq);
    const raw = a.slice(eq + 1);
    out[key] = /^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : raw === 'true' ? true : raw === 'false' ? false : raw;
  });
  return out;
}

/** The spec from `-f file.yaml` or from `<type> <target> [k=v...]` (a partition's target is a comma list). */
export function specFromArgs(type: string | undefined, target: string | undefined, params: string[], file?: string): unknown {
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new AppError('VALIDATION', `cannot read ${file}`, { issues: [{ path: 'file', message: (e as Error).message }] });
    }
    return parseYamlWith(FaultSpecSchema, text, file);
  }
  if (!type || !target) {
    throw new AppError('VALIDATION', 'a fault needs a type and a target', {
      issues: [{ path: type ? 'target' : 'type', message: 'usage: faultline faults apply <type> <target> [key=value...] or -f fault.yaml' }],
    });
  }
  // An unquoted `orders->payments` reaches us as `orders-`: the shell took `>payments` as a redirect.
  if (/(^|,)\s*[\w.*]+-\s*(,|$)/.test(target)) {
    throw new AppError('VALIDATION', 'invalid fault target', {
      issues: [
        {
          path: 'target',
          message: `"${target}" looks cut at "->": the shell took ">..." as a redirect (and wrote a file); quote the target, e.g. 'orders->payments'`,
        },
      ],
    });
  }
  return { type, target: type === 'partition' ? target.split(',').map((s) => s.trim()) : target, params: parseParamArgs(params) };
}

export function formatFaultRows(rows: TFaultRow[]): string {
  if (rows.length === 0) return 'no faults';
  const head = ['ID', 'TYPE', 'TARGET', 'STATUS', 'RUN', 'APPLIED', 'EXPIRES', 'PARAMS'];
  const body = rows.map((r) => [
    r.id,
    r.type,
    r.target,
    r.status + (r.error ? ` (${r.error.slice(0, 60)})` : ''),
    r.runId ?? '-',
    r.appliedAt.toISOString(),
    r.expiresAt ? r.expiresAt.toISOString() : '-',
    JSON.stringify(r.params),
  ]);
  const all = [head, ...body];
  const w = head.map((_, c) => Math.max(...all.map((row) => row[c].length)));
  return all.map((row) => row.map((cell, c) => (c === row.length - 1 ? cell : cell.padEnd(w[c]))).join('  ')).join('\n');
}

const FAULT_TYPE_HELP = FAULT_TYPES.join(', ');
const FAULT_TARGET_HELP =
  "edge (orders->payments), instance (payments-0) or service (payments); partition: comma list of edges. Quote it in a shell: 'orders->payments'";
const FAULT_PARAMS_HELP = 'key=value parameters, e.g. latencyMs=200 jitterMs=20';

export function register(program: Command): void {
  const faults = program.command('faults').description('the fault catalog: list, validate, apply and remove faults by hand');

  addFaultFlags(faults.command('list').description('faults not yet removed (from the ledger)'))
    .option('--all', 'the 50 most recent faults, removed ones included')
    .action(async (flags: TFaultFlags & { all?: boolean }) => {
      const ctx = faultContext(flags);
      try {
        process.stdout.write(`${formatFaultRows(flags.all ? await recentFaults(ctx.db) : await openFaults(ctx.db))}\n`);
      } finally {
        await closeDb(ctx.databaseUrl);
      }
    });

  addFaultFlags(
    faults
      .command('validate')
      .description('check a fault against the schema and the running shop without applying it')
      .argument('[type]', FAULT_TYPE_HELP)
      .argument('[target]', FAULT_TARGET_HELP)
      .argument('[params...]', FAULT_PARAMS_HELP)
      .option('-f, --file <path>', 'a YAML file holding one fault {type, target, params}'),
  ).action(async (type: string | undefined, target: string | undefined, params: string[], flags: TFaultFlags & { file?: string }) => {
    const ctx = faultContext(flags);
    try {
      const spec = await validateFault(specFromArgs(type, target, params, flags.file), ctx);
      process.stdout.write(`ok: ${JSON.stringify(spec)}\n`);
    } finally {
      await closeDb(ctx.databaseUrl);
    }
  });

  addFaultFlags(
    faults
      .command('apply')
      .description('apply one fault now; it is removed after --for, by `faults remove <id>` or by `halt`')
      .argument('[type]', FAULT_TYPE_HELP)
      .argument('[target]', FAULT_TARGET_HELP)
      .argument('[params...]', FAULT_PARAMS_HELP)
      .option('-f, --file <path>', 'a YAML file holding one fault {type, target, params}')
      .option('--for <duration>', "expiry: a running worker's reconciler (faultline worker / up) removes the fault after this long", '10m')
      .option('--run <id>', 'attach the fault to a run (removed when the run ends)'),
  ).action(
    async (type: string | undefined, target: string | undefined, params: string[], flags: TFaultFlags & { file?: string; for: string; run?: string }) => {
      const forMs = parseDuration(flags.for, '--for');
      const spec = specFromArgs(type, target, params, flags.file);
      const ctx = faultContext(flags);
      try {
        await migratePlatformDatabase(ctx.databaseUrl);
        const expiresAt = new Date(Date.now() + forMs);
        const f = await applyFault(spec, { ...ctx, runId: flags.run, expiresAt, detached: true });
        process.stdout.write(`${f.id}  ${f.spec.type} on ${JSON.stringify(f.spec.target)} until ${expiresAt.toISOString()}\n`);
      } finally {
        await closeDb(ctx.databaseUrl);
      }
    },
  );

  addFaultFlags(faults.command('remove').description('remove one fault by id').argument('<id>')).action(async (id: string, flags: TFaultFlags) => {
    const ctx = faultContext(flags);
    try {
      const r = await removeFault(id, ctx);
      const what = [
        r.toxicsRemoved.length && `${r.toxicsRemoved.length} toxic(s)`,
        r.proxiesEnabled.length && `re-enabled ${r.proxiesEnabled.join(', ')}`,
        r.instancesResumed.length && `resumed ${r.instancesResumed.join(', ')}`,
        r.instancesStarted.length && `started ${r.instancesStarted.join(', ')}`,
        r.httpFaultsRemoved.length && `${r.httpFaultsRemoved.length} HTTP fault(s)`,
      ].filter(Boolean);
      process.stdout.write(`removed ${id}${what.length ? `: ${what.join('; ')}` : ''}\n`);
    } finally {
      await closeDb(ctx.databaseUrl);
    }
  });
}
