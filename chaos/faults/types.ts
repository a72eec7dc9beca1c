/**
 * The one fault interface (STYLE.md): a module per fault type exporting
 * `{ type, schema, apply }`; `apply` returns the function that removes it.
 */
import type { z } from 'zod';
import type { TDb } from '../../db/client.js';
import type { TFaultSpecOf, TFaultType } from './spec.js';
import type { THttpFaultBody } from './supervisor-api.js';

/** Where faults are applied and recorded. */
export interface TFaultContext {
  /** Toxiproxy (or faultline's compatible proxy) API, e.g. `http://127.0.0.1:8474`. */
  toxiproxyUrl: string;
  /**
   * Shop supervisor admin API, e.g. `http://127.0.0.1:8479`; `''` for a system
   * without one (a target file's): edges are then the proxy's list.
   */
  supervisorUrl: string;
  /** Platform database holding the `faults` ledger. */
  db: TDb;
  /** Run the fault belongs to; the reconciler removes it when that run is no longer active. */
  runId?: string;
  /** When the fault must be gone at the latest, even if whoever applied it died. */
  expiresAt?: Date;
  /**
   * The fault outlives the applying process on purpose (`faultline faults
   * apply` exits at once): no holder is recorded, so only its run, its
   * expiry or a halt removes it.
   * @defaultValue false
   */
  detached?: boolean;
  /**
   * Hosts a proxy upstream, an instance URL, the proxy API or the supervisor
   * may point at (the allowlist).
   * @defaultValue `loadConfig().FAULT_ALLOWED_HOSTS` (loopback)
   */
  allowedHosts?: readonly string[];
  /**
   * Per-request timeout for calls to the proxy API and the supervisor.
   * @defaultValue 5000
   */
  requestTimeoutMs?: number;
  /**
   * Undoes a target's command-driven process fault (`TUndo.commands`).
   * Supplied by workers/ (`undoCommandFault`: target files sit above
   * chaos/); it re-reads the recorded target file and runs only that
   * file's commands. Without it such a fault cannot be undone here: its
   * removal fails, naming why, and the row stays open for a worker.
   */
  undoCommand?: TUndoCommand;
}

/**
 * A target's process fault run by its own commands, as the ledger records
 * it: where the commands are and which to undo, never a command line (a
 * database writer must not be able to make a reconciler run one).
 */
export interface TCommandUndo {
  /** Absolute path of the target file whose `processes.commands` applied it. */
  targetFile: string;
  /** `processes.instances[].id` in that file. */
  instance: string;
  /** kill → `start` (or `restart`), pause → `resume`, restart → nothing. */
  fault: 'kill' | 'pause' | 'restart';
}

/** Undo one command fault; resolves to what it did (`none`: nothing was left to undo). */
export type TUndoCommand = (u: TCommandUndo) => Promise<'resumed' | 'started' | 'none'>;

/** Removes what `apply` did. Idempotent: calling it twice, or after a halt, is harmless. */
export type TRemove = () => Promise<void>;

/**
 * What `apply` did, in terms the reconciler can undo in another process
 * after a crash (stored in the ledger's `undo` column as soon as known).
 */
export interface TUndo {
  /** Toxics added: proxy name → toxic names. */
  toxics?: Record<string, string[]>;
  /** Proxies disabled by this fault (re-enabled on removal). */
  disabledProxies?: string[];
  /** Instances paused (resumed on removal). */
  pausedInstances?: string[];
  /** Instances killed with a hold (started on removal, if still held). */
  heldInstances?: string[];
  /**
   * HTTP faults pushed to the supervisor: the body is recorded before the
   * POST and the id after, so a fault whose id was never learned can still
   * be found by its body.
   */
  httpFaults?: { id?: string; body: THttpFaultBody }[];
  /**
   * The proxy API the toxics and disabled proxies are on (a target file's
   * own `edges.toxiproxy` may not be the platform's); absent in rows
   * written before it was recorded: the context's.
   */
  toxiproxyUrl?: string;
  /** The supervisor the instances and HTTP faults are on (a target's `processes.url`); absent: the context's. */
  supervisorUrl?: string;
  /** A target's process faults run by its commands, undone through `TFaultContext.undoCommand`. */
  commands?: TCommandUndo[];
}

/** Handed to `apply`: the context plus the ledger id and a way to record undo data early. */
export interface TApplyContext extends TFaultContext {
  /** Ledger id of this fault; toxic names are derived from it so a reconciler can find them. */
  faultId: string;
  /** Persist what has been done so far, before the next step (crash safety). */
  recordUndo(undo: TUndo): Promise<void>;
}

export interface TFaultModule<T extends TFaultType = TFaultType> {
  type: T;
  schema: z.ZodType<TFaultSpecOf<T>>;
  /**
   * Resolve the target and check it against the shop and the allowlist
   * without changing anything; throws AppError('VALIDATION' |
   * 'TARGET_NOT_ALLOWED') naming `target`.
   */
  validate(spec: TFaultSpecOf<T>, ctx: TFaultContext): Promise<void>;
  /** Apply the fault; resolves to the function that removes it. */
  apply(target: TFaultSpecOf<T>['target'], params: TFaultSpecOf<T>['params'], ctx: TApplyContext): Promise<TRemove>;
}
