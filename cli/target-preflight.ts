/**
 * Before `faultline run` / `gate` run an experiment against a target file:
 * `faultline target check`'s checks of that target (checkTarget, the same
 * code), one line per piece, and a refusal — before anything is started and
 * any fault applied — when a piece the experiment needs is not there.
 *
 *   experiment ─▶ its target file ─▶ checkTarget ─▶ one line per piece
 *                                                  └▶ a needed piece FAILs ─▶ AppError UNAVAILABLE naming it
 *
 * "Needed" follows what the runner does with the target (workers/runner/target-system.ts):
 * the entry, the Toxiproxy the listed proxies are ensured on, the proxies and process
 * commands its faults use, every scrape URL and http_sd target (steady state), the databases
 * and queries of the invariants it judges, the acknowledged writes and `settled`. Logs and a
 * Prometheus server are not used by runs yet: their lines are shown, never fatal.
 */
import { AppError } from '../core/errors.js';
import { ACKNOWLEDGED_CHECK, HISTORY_CHECK, isTargetFile, type TExperiment } from '../experiments/index.js';
import path from 'node:path';
import { historyDatabase, loadTarget, SHOP_TARGET_FILE, type TTarget } from '../targets/index.js';
import { checkTarget, type TCheckLine } from '../workers/index.js';

const NETWORK_TYPES = new Set(['latency', 'jitter', 'bandwidth', 'timeout', 'blackhole', 'reset_peer', 'slow_close', 'limit_data', 'edge_down', 'partition']);

const color = (tty: boolean, code: number, s: string) => (tty ? `\x1b[${code}m${s}\x1b[0m` : s);

/** One check line as `faultline target check` prints it (`ok`, `warn` or `FAIL`, the piece, the detail). */
export function checkLineText(l: TCheckLine, tty = false, suffix = ''): string {
  const mark = !l.ok ? color(tty, 31, 'FAIL') : l.warn ? color(tty, 33, 'warn') : color(tty, 32, ' ok ');
  return `${mark}  ${l.piece.padEnd(34)} ${l.detail}${suffix}\n`;
}

function globMatches(pattern: string, name: string): boolean {
  const [pf, pt] = pattern.split('->');
  const [nf, nt] = name.split('->');
  return (pf === '*' || pf === nf) && (pt === '*' || pt === nt);
}

/** Which check lines (by piece) the experiment's run depends on. Pure. */
export function piecesNeeded(e: TExperiment, t: TTarget): (piece: string) => boolean {
  const faults = e.faults.map((f) => f.fault as { type: string; target: unknown });
  const network = faults.filter((f) => NETWORK_TYPES.has(f.type));
  const edgePatterns = network.flatMap((f) => (Array.isArray(f.target) ? (f.target as string[]) : [String(f.target).replace(/#\d+$/, '')]));
  const processFaults = faults.filter((f) => f.type === 'kill' || f.type === 'pause' || f.type === 'restart');
  const commands = t.processes?.kind === 'commands' ? t.processes.commands : undefined;
  const verbs = new Set<string>();
  for (const f of processFaults) {
    verbs.add(f.type);
    if (f.type === 'pause') verbs.add('resume');
    if (f.type === 'kill') verbs.add(commands?.start ? 'start' : 'restart');
  }
  const all = e.expectations.invariants.includes('*');
  const invariants = new Set(all ? t.invariants.map((i) => i.name) : e.expectations.invariants);
  const acks = all || e.expectations.invariants.includes(ACKNOWLEDGED_CHECK) || e.expectations.invariants.includes(HISTORY_CHECK);
  const databases = new Set<string>(t.invariants.filter((i) => invariants.has(i.name)).map((i) => i.database));
  if (acks)
    for (const a of t.acknowledged) {
      if ('database' in a.confirm) databases.add(a.confirm.database);
      for (const q of [a.failed, a.unknown]) if (q) databases.add(historyDatabase(a, q)!);
    }
  if (t.settled) databases.add(t.settled.database);
  return (piece) => {
    // the run scrapes the scrape URLs, every target http_sd lists (resolved at its start) and the Prometheus server's federation
    if (
      piece === 'entry' ||
      piece === 'settled' ||
      piece.startsWith('metrics.scrape.') ||
      piece.startsWith('metrics.http_sd') ||
      piece === 'metrics.prometheus'
    )
      return true;
    // the runner lists (and creates) the target's proxies at the start of every run
    if (piece === 'edges.toxiproxy') return Boolean(t.edges);
    if (piece === 'edges.proxies') return network.length > 0;
    if (piece.startsWith('edges.proxies.')) {
      const name = piece.slice('edges.proxies.'.length);
      return edgePatterns.some((p) => p === name || globMatches(p, name));
    }
    if (piece === 'processes') return processFaults.length > 0;
    if (piece.startsWith('processes.commands.')) return verbs.has(piece.slice('processes.commands.'.length));
    if (piece.startsWith('databases.')) return databases.has(piece.slice('databases.'.length));
    if (piece.startsWith('invariants.')) return invariants.has(piece.slice('invariants.'.length));
    if (piece.startsWith('acknowledged.')) return acks;
    return false;
  };
}

export interface TPreflightOptions {
  /** Where the check lines go. */
  write: (text: string) => void;
  /**
   * Bound of each network call of the check.
   * @defaultValue 3000
   */
  timeoutMs?: number;
}

/**
 * Check the targets of target-file experiments (each target file once), print
 * every line, and throw AppError UNAVAILABLE naming each failing piece an
 * experiment needs. Shop experiments are skipped. Resolved experiments only
 * (target paths absolute, as readExperimentFile / loadSuiteFile give them).
 */
/**
 * Whether a run of this experiment needs the bundled shop: it names `shop`, or the shop's
 * own target file (targets/shop.yaml) — that file describes the shop `run`/`gate` start.
 */
export function needsShop(target: string): boolean {
  return !isTargetFile(target) || path.resolve(target) === SHOP_TARGET_FILE;
}

/**
 * The experiments whose target check waits until the shop is up (those naming targets/shop.yaml),
 * and the others, checked before anything starts.
 */
export function preflightOrder<T extends { experiment: TExperiment }>(experiments: readonly T[]): { before: T[]; afterShop: T[] } {
  const afterShop = experiments.filter((x) => isTargetFile(x.experiment.target) && needsShop(x.experiment.target));
  return { before: experiments.filter((x) => !afterShop.includes(x)), afterShop };
}

export async function preflightTargets(experiments: readonly { file: string; experiment: TExperiment }[], o: TPreflightOptions): Promise<void> {
  const byTarget = new Map<string, { file: string; experiment: TExperiment }[]>();
  for (const x of experiments) if (isTargetFile(x.experiment.target)) byTarget.set(x.experiment.target, [...(byTarget.get(x.experiment.target) ?? []), x]);
  const failures: { path: string; message: string }[] = [];
  const failed = new Map<string, Set<string>>();
  for (const [ref, users] of byTarget) {
    const { target: t, file } = await loadTarget(ref);
    o.write(`target ${t.name} (${file}): checking every piece before any fault\n`);
    const needs = users.map((u) => ({ ...u, needed: piecesNeeded(u.experiment, t) }));
    const lines = await checkTarget(t, { timeoutMs: o.timeoutMs ?? 3000 });
    for (const l of lines) {
      const users = needs.filter((n) => n.needed(l.piece));
      o.write(checkLineText(l, false, !l.ok && users.length === 0 ? ' (not used by these runs)' : ''));
      if (!l.ok && users.length) failed.set(t.name, (failed.get(t.name) ?? new Set()).add(l.piece));
      if (!l.ok) for (const u of users) failures.push({ path: `${u.experiment.name} → target ${t.name} ${l.piece}`, message: l.detail });
    }
  }
  if (failures.length === 0) return;
  const what = [...failed].map(([name, pieces]) => `target ${name}: ${[...pieces].join(', ')}`).join('; ');
  throw new AppError('UNAVAILABLE', `not ready (${what} failed the check); nothing was started and no fault applied`, {
    issues: failures,
  });
}
