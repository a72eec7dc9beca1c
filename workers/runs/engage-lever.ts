/**
 * The safety lever, after AWS FIS's: engaging it stops every experiment now
 * and keeps new ones from starting until someone releases it.
 *
 *   engage ─▶ lever row (Postgres) ─┬─▶ haltAll: proxy reset, instances resumed/started,
 *             from here on every    │            HTTP faults deleted, ledger closed
 *             run start and fault   └─▶ every active run: queued ─▶ ended `aborted` here;
 *             apply is refused              started ─▶ abort published on its control channel
 *             (HALTED)                      (re-sent until a runner is listening)
 *
 * The lever row is written first, so nothing started after it can slip
 * past the halt: enqueueRun, the runner and applyFault all read it.
 * Halt and aborts run side by side and neither can stop the other (Redis
 * down still halts every fault; a proxy down still aborts every run).
 * Release only clears the lever; nothing restarts by itself.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import {
  clearLever,
  haltAll,
  leverHistory,
  leverState,
  parseAllowedHosts,
  setLever,
  type THaltResult,
  type TLeverEvent,
  type TLeverState,
} from '../../chaos/index.js';
import { toAppError } from '../../core/errors.js';
import { parseWith } from '../../core/validate.js';
import { appendRunEvent } from '../runner/event-sink.js';
import { runControlChannel } from '../runner/events.js';
import { transitionRun } from '../runner/lifecycle.js';
import type { TPlatform } from '../platform.js';
import { undoCommandFault } from '../targets/index.js';
import { activeRuns } from './active-runs.js';

/** What the lever needs of the platform: the database, Redis to tell runners, and where the faults live. */
export type TLeverPlatform = Pick<TPlatform, 'db' | 'redis' | 'prefix' | 'toxiproxyUrl' | 'supervisorUrl'> & {
  /** @defaultValue `cfg.FAULT_ALLOWED_HOSTS` of the platform when given, else loopback */
  allowedHosts?: readonly string[];
  cfg?: Pick<TPlatform['cfg'], 'FAULT_ALLOWED_HOSTS'>;
};

export const EngageLeverInputSchema = z
  .object({
    /** Who engages it (the signed-in user, or the CLI's OS user). */
    by: z.string().trim().min(1, 'required').max(200),
    /** Why; shown in the console banner and in every aborted run's reason. */
    reason: z.string().trim().min(1, 'give a reason').max(1000),
  })
  .strict();
export type TEngageLeverInput = z.input<typeof EngageLeverInputSchema>;

export const ReleaseLeverInputSchema = z
  .object({
    by: z.string().trim().min(1, 'required').max(200),
    /** Optional note kept in the lever's history. */
    reason: z.string().trim().max(1000).optional(),
  })
  .strict();
export type TReleaseLeverInput = z.input<typeof ReleaseLeverInputSchema>;

/** What happened to one run that was active when the lever was engaged. */
export interface TLeverRunOutcome {
  id: string;
  experimentName: string;
  /** Its state when the lever was engaged. */
  state: string;
  /**
   * `ended`: it was still queued and was ended `aborted` here;
   * `abort-sent`: a runner received the abort;
   * `abort-undelivered`: no runner listened (a dead worker: the stall sweeper ends it, the reconciler and this halt removed its faults);
   * `error`: Redis or the database could not be reached (the run still stops at its runner's next lever check).
   */
  outcome: 'ended' | 'abort-sent' | 'abort-undelivered' | 'error';
  detail?: string;
}

export interface TEngageLeverResult {
  lever: Extract<TLeverState, { engaged: true }>;
  /** The lever was already engaged: its first engagement stands, the halt and aborts were done again. */
  alreadyEngaged: boolean;
  halt: THaltResult;
  runs: TLeverRunOutcome[];
  /** From the call to every fault gone and every run told (ms). */
  durationMs: number;
}

export interface TEngageLeverOptions {
  /**
   * How long to keep re-sending an abort that no runner received (a run
   * between leaving `queued` and subscribing to its control channel).
   * @defaultValue 3000
   */
  redeliverForMs?: number;
  /**
   * Bound on each Redis call, so Redis being down never holds the halt up.
   * @defaultValue 2000
   */
  redisTimeoutMs?: number;
}

/** The reason every run stopped by the lever ends with (contract 4 of the brief). */
export function haltReason(lever: { by: string; reason: string }): string {
  return `halted by ${lever.by}: ${lever.reason}`;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, rej) => {
      t = setTimeout(() => rej(new Error(`${what}: no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(t));
}

function allowedHostsOf(p: TLeverPlatform): readonly string[] | undefined {
  if (p.allowedHosts) return p.allowedHosts;
  return p.cfg ? parseAllowedHosts(p.cfg.FAULT_ALLOWED_HOSTS) : undefined;
}

/** Publish an abort until a runner receives it (PUBLISH answers how many subscribers got it). */
async function sendAbort(
  p: TLeverPlatform,
  runId: string,
  reason: string,
  o: Required<TEngageLeverOptions>,
): Promise<Pick<TLeverRunOutcome, 'outcome' | 'detail'>> {
  // `source: 'lever'` lets the runner keep the reason as is ("halted by …"), not prefix it as a user abort.
  const msg = JSON.stringify({ action: 'abort', reason, source: 'lever' });
  const deadline = Date.now() + o.redeliverForMs;
  for (let delay = 50; ; delay = Math.min(delay * 2, 500)) {
    const receivers = await withTimeout(p.redis.publish(runControlChannel(runId, p.prefix), msg), o.redisTimeoutMs, 'Redis');
    if (receivers > 0) return { outcome: 'abort-sent' };
    if (Date.now() + delay > deadline) return { outcome: 'abort-undelivered', detail: 'no runner listening on its control channel' };
    await sleep(delay);
  }
}

async function stopRun(
  p: TLeverPlatform,
  run: { id: string; state: string; experimentName: string },
  reason: string,
  o: Required<TEngageLeverOptions>,
): Promise<TLeverRunOutcome> {
  const base = { id: run.id, experimentName: run.experimentName, state: run.state };
  try {
    // A queued run has no runner yet: end it here (guarded: if a runner took it meanwhile, tell that runner instead).
    if (run.state === 'queued' && (await transitionRun(p.db, run.id, 'aborted', { reason }))) {
      await withTimeout(
        (async () => {
          await appendRunEvent(p.db, p.redis, p.prefix, run.id, { type: 'phase', phase: 'aborted', reason });
          await appendRunEvent(p.db, p.redis, p.prefix, run.id, { type: 'verdict', verdict: 'aborted', reason });
        })(),
        o.redisTimeoutMs,
        'run events',
      ).catch(() => undefined /* the run row already says aborted and why */);
      return { ...base, outcome: 'ended' };
    }
    return { ...base, ...(await sendAbort(p, run.id, reason, o)) };
  } catch (e) {
    return { ...base, outcome: 'error', detail: toAppError(e).message };
  }
}

/**
 * Engage the safety lever: store it, remove every fault, abort every active
 * run with the reason `halted by <by>: <reason>`. Safe to call again while
 * engaged (halts and aborts again, keeps the first engagement).
 */
export async function engageLever(p: TLeverPlatform, input: TEngageLeverInput, opts: TEngageLeverOptions = {}): Promise<TEngageLeverResult> {
  const started = performance.now();
  const i = parseWith(EngageLeverInputSchema, input, 'safety lever');
  const o: Required<TEngageLeverOptions> = { redeliverForMs: opts.redeliverForMs ?? 3000, redisTimeoutMs: opts.redisTimeoutMs ?? 2000 };
  const { state, alreadyEngaged } = await setLever(p.db, i);
  const reason = haltReason(state);
  const haltP = haltAll({
    toxiproxyUrl: p.toxiproxyUrl,
    supervisorUrl: p.supervisorUrl,
    db: p.db,
    allowedHosts: allowedHostsOf(p),
    // a target's paused or killed instances are brought back by its own commands
    undoCommand: undoCommandFault,
  });
  const runsP = activeRuns(p.db).then((rs) => Promise.all(rs.map((r) => stopRun(p, r, reason, o))));
  const [halt, runs] = await Promise.all([haltP, runsP]);
  return { lever: state, alreadyEngaged, halt, runs, durationMs: Math.round(performance.now() - started) };
}

/** Release the lever: runs and hand-applied faults may start again. Nothing is restarted. */
export async function releaseLever(
  p: Pick<TPlatform, 'db'>,
  input: TReleaseLeverInput,
): Promise<{ released: boolean; previous: TLeverState; lever: TLeverState }> {
  const i = parseWith(ReleaseLeverInputSchema, input, 'safety lever release');
  const r = await clearLever(p.db, { by: i.by, reason: i.reason });
  return { ...r, lever: await leverState(p.db) };
}

/** The lever's state and its recent history (newest first). */
export async function leverStatus(p: Pick<TPlatform, 'db'>, opts: { historyLimit?: number } = {}): Promise<{ lever: TLeverState; history: TLeverEvent[] }> {
  const [lever, history] = await Promise.all([leverState(p.db), leverHistory(p.db, opts.historyLimit ?? 20)]);
  return { lever, history };
}
