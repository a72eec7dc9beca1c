/**
 * The fault timeline of one run: the planned faults as timers relative to
 * the load start, each recorded in one TFaultWindow from plan to report.
 *
 *   planned faults ─▶ windows (planned at/duration, applied/removed null)
 *        │
 *   start(t0) ─▶ timers ─▶ apply: ask mayApply (the lever) ─▶ applyFault ─▶ window.appliedAt
 *                      └─▶ remove at its planned end ──────────────────────▶ window.removedAt
 *   cancel() ─▶ every timer cleared: nothing is applied afterwards
 *   removeAll() ─▶ cancel ▸ wait for applies in flight ▸ remove every active fault now
 *
 * Stopping early (abort, halt, error) calls removeAll at once, so an active
 * fault's window ends when it was really removed, not at its planned end.
 */
import { toAppError } from '../../core/errors.js';
import type { TTimedFault } from '../../experiments/index.js';
import type { TFaultContext } from '../../chaos/index.js';
import type { TRunEvent } from './events.js';
import type { TAppliedFaultHandle, TFaultWindow, TRunnerDeps } from './ports.js';
import { planTimeline, type TTimelineAction } from './timeline.js';

export interface TFaultTimelineEnv {
  deps: Pick<TRunnerDeps, 'applyFault'>;
  /** The fault context of one apply (platform URLs, run id, ledger expiry). */
  faultContext(f: TTimedFault, loadStart: number): TFaultContext;
  emit(e: TRunEvent): Promise<void>;
  /** Asked right before each apply; a reason means "do not apply" (the safety lever is engaged). */
  mayApply(): Promise<string | undefined>;
  /** An apply was refused (`halt`) or failed (`error`): the run must stop. */
  onStop(reason: string, kind: 'halt' | 'error'): void;
}

interface TActive {
  handle: TAppliedFaultHandle;
  window: TFaultWindow;
}

/** A fault's target as the report shows it: an edge, instance or service; a partition's edges joined. */
export function windowTarget(target: unknown): string {
  if (Array.isArray(target)) return target.join(', ');
  return typeof target === 'string' ? target : JSON.stringify(target ?? null);
}

/** The planned window of a fault, before anything happened. */
export function plannedWindow(f: TTimedFault): TFaultWindow {
  return {
    name: f.name,
    type: f.fault.type,
    target: windowTarget(f.fault.target),
    plannedAtMs: f.at,
    plannedDurationMs: f.duration,
    appliedAt: null,
    removedAt: null,
  };
}

export class FaultTimeline {
  /** One record per planned fault, in plan order; filled in as the faults happen. */
  readonly windows: TFaultWindow[];
  private readonly windowOf = new Map<TTimedFault, TFaultWindow>();
  private readonly active = new Map<TTimedFault, TActive>();
  private readonly removals = new Map<TTimedFault, Promise<void>>();
  private readonly timers = new Set<NodeJS.Timeout>();
  // An apply still in flight when the run ends must land (and then be removed) before we let go.
  private readonly pendingApplies = new Set<Promise<void>>();
  private loadStart: number | undefined;
  private cancelled = false;

  constructor(
    private readonly faults: readonly TTimedFault[],
    private readonly env: TFaultTimelineEnv,
  ) {
    this.windows = faults.map((f) => {
      const w = plannedWindow(f);
      this.windowOf.set(f, w);
      return w;
    });
  }

  /** Start the timers, counting from the load start `t0` (epoch ms). Later calls do nothing. */
  start(t0: number): void {
    if (this.loadStart !== undefined || this.cancelled) return;
    this.loadStart = t0;
    for (const action of planTimeline(this.faults)) {
      const timer = setTimeout(
        () => {
          this.timers.delete(timer);
          this.fire(action, t0);
        },
        Math.max(0, t0 + action.at - Date.now()),
      );
      this.timers.add(timer);
    }
  }

  /** Clear every pending timer: nothing is applied after this. */
  cancel(): void {
    this.cancelled = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  /** Cancel the timeline, let applies in flight land, and remove every active fault now. Idempotent. */
  async removeAll(): Promise<void> {
    this.cancel();
    await Promise.allSettled([...this.pendingApplies]);
    await Promise.all([...this.active.keys()].map((f) => this.remove(f)));
    await Promise.allSettled([...this.removals.values()]);
  }

  private fire(action: TTimelineAction, t0: number): void {
    if (this.cancelled) return;
    if (action.kind === 'remove') {
      void this.remove(action.fault);
      return;
    }
    const pr = this.apply(action.fault, t0);
    this.pendingApplies.add(pr);
    void pr.finally(() => this.pendingApplies.delete(pr));
  }

  private async apply(f: TTimedFault, t0: number): Promise<void> {
    let refusal: string | undefined;
    try {
      refusal = await this.env.mayApply();
    } catch (e) {
      // a lever that cannot be read is not a lever that is released: no fault without the answer
      this.cancel();
      this.env.onStop(`fault ${f.name} not applied: the safety lever could not be read (${toAppError(e).message})`, 'error');
      return;
    }
    // cancelled while asking (the run was stopped): the fault is not applied
    if (this.cancelled) return;
    if (refusal) {
      this.cancel();
      this.env.onStop(refusal, 'halt');
      return;
    }
    const window = this.windowOf.get(f)!;
    try {
      const handle = await this.env.deps.applyFault(f.fault, this.env.faultContext(f, t0));
      window.appliedAt = Date.now();
      this.active.set(f, { handle, window });
      await this.env.emit({
        type: 'fault.applied',
        name: f.name,
        faultId: handle.id,
        fault: { type: f.fault.type, target: f.fault.target },
        plannedAt: t0 + f.at,
        until: t0 + f.at + f.duration,
      });
      // its removal timer fired while the apply was in flight, or the run was stopped: remove now
      if (Date.now() >= t0 + f.at + f.duration || this.cancelled) await this.remove(f);
    } catch (e) {
      const err = toAppError(e);
      await this.env.emit({ type: 'fault.failed', name: f.name, error: err.message });
      // the lever engaged between our check and the catalog's own (chaos refuses applies while it is engaged)
      const lever = err.code === 'HALTED' ? (err.details?.lever as { by?: string; reason?: string } | undefined) : undefined;
      if (err.code === 'HALTED') this.env.onStop(lever?.by ? `halted by ${lever.by}: ${lever.reason ?? ''}` : err.message, 'halt');
      else this.env.onStop(`fault ${f.name} could not be applied: ${err.message}`, 'error');
    }
  }

  /** Remove one active fault (concurrent calls share the removal). */
  private remove(f: TTimedFault): Promise<void> {
    const inFlight = this.removals.get(f);
    if (inFlight) return inFlight;
    const a = this.active.get(f);
    if (!a) return Promise.resolve();
    const removal = (async () => {
      try {
        await a.handle.remove();
        a.window.removedAt = Date.now();
        await this.env.emit({ type: 'fault.removed', name: f.name, faultId: a.handle.id });
      } catch (e) {
        // the ledger row is marked failed; the reconciler keeps retrying the removal
        await this.env.emit({ type: 'fault.removed', name: f.name, faultId: a.handle.id, error: toAppError(e).message });
      } finally {
        this.active.delete(f);
        this.removals.delete(f);
      }
    })();
    this.removals.set(f, removal);
    return removal;
  }
}
