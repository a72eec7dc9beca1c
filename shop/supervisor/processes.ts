/**
 * Child-process management for the shop's service instances: spawn, wait
 * until healthy, restart crashed ones with backoff, and the process faults the
 * admin API exposes (SIGKILL with an optional hold, SIGSTOP/SIGCONT, graceful
 * restart).
 *
 *            spawn                 /health ok                 exit (unplanned)
 *   stopped ───────▶ starting ─────────────▶ running ────────────────▶ crashed
 *      ▲   ◀─hold ends / start─┐      ▲  │ pause            backoff │
 *      │                       │      │  ▼                         ▼
 *      └──── kill{hold} ───────┘      └─ paused ◀─ resume ─   spawn again
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { wrapText, type LogRing } from './logs.js';
import { SupervisorError } from './errors.js';

export type TInstanceState = 'running' | 'paused' | 'stopped' | 'crashed' | 'starting';

/** What the supervisor needs to run one instance. */
export interface TInstanceSpec {
  /** `<service>-<index>`, e.g. `payments-1`. */
  id: string;
  service: string;
  index: number;
  port: number;
  /** Address other hosts use to reach the instance (what `GET /instances` reports). */
  url: string;
  /** URL the supervisor polls for health (always loopback: same host). */
  healthUrl: string;
  command: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
}

export interface TInstanceInfo {
  id: string;
  service: string;
  index: number;
  pid: number | null;
  port: number;
  url: string;
  state: TInstanceState;
  restarts: number;
  startedAt: string | null;
  /** When a `kill {hold}` ends (ISO time), while held. */
  holdUntil?: string;
  /** Exit code or signal of the last exit. */
  lastExit?: { code: number | null; signal: string | null; at: string };
}

/** Options of {@link InstanceManager}. */
export interface TInstanceManagerOptions {
  logs: LogRing;
  /**
   * Restart instances that exit on their own.
   * @defaultValue true
   */
  restart?: boolean;
  /**
   * First restart delay after a crash; doubles per consecutive crash.
   * @defaultValue 250
   */
  backoffInitialMs?: number;
  /**
   * Upper bound of the restart delay.
   * @defaultValue 10_000
   */
  backoffMaxMs?: number;
  /**
   * An instance that stayed healthy this long has its crash streak forgotten.
   * @defaultValue 30_000
   */
  backoffResetMs?: number;
  /**
   * How long a starting instance may take to answer `/health`.
   * @defaultValue 30_000
   */
  healthTimeoutMs?: number;
  /**
   * Grace period between SIGTERM and SIGKILL on restart and shutdown.
   * @defaultValue 5_000
   */
  stopGraceMs?: number;
  /**
   * Called each time an instance becomes healthy (first start and every
   * restart), before it is reported `running`: re-pushes HTTP faults and the
   * run context. Errors are logged, not fatal.
   */
  onHealthy?: (info: TInstanceInfo) => Promise<void>;
}

/** What to do when the current child exits. */
type TExitPlan = { kind: 'crash' } | { kind: 'restart' } | { kind: 'hold'; ms: number } | { kind: 'stay' };

class Instance {
  state: TInstanceState = 'stopped';
  child: ChildProcess | null = null;
  restarts = 0;
  startedAt: number | null = null;
  healthyAt: number | null = null;
  crashStreak = 0;
  exitPlan: TExitPlan = { kind: 'crash' };
  timer: NodeJS.Timeout | null = null;
  holdUntil: number | null = null;
  lastExit: TInstanceInfo['lastExit'];
  /** Bumped on every spawn so a late health poll of an old child is ignored. */
  generation = 0;
  /** Last stderr lines, to explain a failed start. */
  stderrTail: string[] = [];
  exited: Promise<void> = Promise.resolve();
  constructor(readonly spec: TInstanceSpec) {}
}

function describeExit(e: TInstanceInfo['lastExit']): string {
  if (!e) return 'unknown';
  return e.signal ? `signal ${e.signal}` : `code ${e.code}`;
}

export class InstanceManager extends EventEmitter {
  private readonly instances = new Map<string, Instance>();
  private readonly opts: Required<Omit<TInstanceManagerOptions, 'onHealthy'>> & Pick<TInstanceManagerOptions, 'onHealthy'>;
  private shuttingDown = false;

  constructor(opts: TInstanceManagerOptions) {
    super();
    this.opts = {
      restart: true,
      backoffInitialMs: 250,
      backoffMaxMs: 10_000,
      backoffResetMs: 30_000,
      healthTimeoutMs: 30_000,
      stopGraceMs: 5_000,
      // an option passed as undefined (the supervisor forwards its own) keeps the default: NaN ms backoffs otherwise
      ...(Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) as TInstanceManagerOptions),
    };
  }

  add(spec: TInstanceSpec): void {
    if (this.instances.has(spec.id)) throw new SupervisorError('CONFLICT', `instance ${spec.id} already exists`);
    this.instances.set(spec.id, new Instance(spec));
  }

  list(): TInstanceInfo[] {
    return [...this.instances.values()].map((i) => this.info(i));
  }

  get(id: string): TInstanceInfo {
    return this.info(this.find(id));
  }

  /** Start every instance and resolve when all are healthy; reject naming the ones that are not. */
  async startAll(): Promise<void> {
    const all = [...this.instances.values()];
    for (const inst of all) this.spawnInstance(inst);
    await this.waitHealthy(
      all.map((i) => i.spec.id),
      this.opts.healthTimeoutMs,
    );
  }

  /** Resolve when the given instances are all `running`, or reject after `timeoutMs`. */
  async waitHealthy(ids: string[], timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const pending = ids.map((id) => this.find(id)).filter((i) => i.state !== 'running');
      if (pending.length === 0) return;
      if (this.shuttingDown) throw new SupervisorError('UNAVAILABLE', 'supervisor is shutting down');
      // An instance that keeps dying before it ever answered will not recover by waiting: say why now.
      const failing = pending.filter((i) => i.healthyAt === null && i.crashStreak >= 3);
      if (failing.length) {
        const detail = failing
          .map(
            (i) =>
              `  ${i.spec.id} exited ${i.crashStreak} times (last: ${describeExit(i.lastExit)}):\n      ${i.stderrTail.slice(-5).join('\n      ') || '(no output on stderr)'}`,
          )
          .join('\n');
        throw new SupervisorError('UNAVAILABLE', `instances keep crashing at start:\n${detail}`);
      }
      if (Date.now() > deadline) {
        const detail = pending
          .map((i) => {
            const tail = i.stderrTail.slice(-5).join('\n      ');
            return `  ${i.spec.id} (${i.state}, port ${i.spec.port}, restarts ${i.restarts})${tail ? `:\n      ${tail}` : ''}`;
          })
          .join('\n');
        throw new SupervisorError('TIMEOUT', `instances not healthy after ${timeoutMs} ms:\n${detail}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** SIGKILL; restarted at once, or after `holdMs` when given. */
  kill(id: string, holdMs?: number): TInstanceInfo {
    const inst = this.find(id);
    if (!inst.child) throw new SupervisorError('CONFLICT', `instance ${id} is not running (state ${inst.state})`);
    inst.exitPlan = holdMs && holdMs > 0 ? { kind: 'hold', ms: holdMs } : { kind: 'restart' };
    inst.child.kill('SIGKILL');
    return this.info(inst);
  }

  pause(id: string): TInstanceInfo {
    const inst = this.find(id);
    if (!inst.child || (inst.state !== 'running' && inst.state !== 'starting')) {
      throw new SupervisorError('CONFLICT', `instance ${id} cannot be paused in state ${inst.state}`);
    }
    inst.child.kill('SIGSTOP');
    inst.state = 'paused';
    this.opts.logs.note(inst.spec.id, inst.spec.service, 'warn', 'instance paused (SIGSTOP)', { pid: inst.child.pid });
    return this.info(inst);
  }

  resume(id: string): TInstanceInfo {
    const inst = this.find(id);
    if (!inst.child || inst.state !== 'paused') throw new SupervisorError('CONFLICT', `instance ${id} is not paused (state ${inst.state})`);
    inst.child.kill('SIGCONT');
    inst.state = inst.healthyAt ? 'running' : 'starting';
    this.opts.logs.note(inst.spec.id, inst.spec.service, 'info', 'instance resumed (SIGCONT)', { pid: inst.child.pid });
    if (inst.state === 'starting') this.pollHealth(inst, inst.generation);
    return this.info(inst);
  }

  /** Graceful restart: SIGTERM, SIGKILL after the grace period, then start again. */
  restart(id: string): TInstanceInfo {
    const inst = this.find(id);
    this.clearTimer(inst);
    if (!inst.child) {
      this.spawnInstance(inst);
      return this.info(inst);
    }
    inst.exitPlan = { kind: 'restart' };
    this.terminate(inst);
    return this.info(inst);
  }

  /** Start an instance that is held, crashed (with restarts off) or stopped. */
  start(id: string): TInstanceInfo {
    const inst = this.find(id);
    if (inst.child) throw new SupervisorError('CONFLICT', `instance ${id} is already ${inst.state}`);
    this.clearTimer(inst);
    this.spawnInstance(inst);
    return this.info(inst);
  }

  /** Stop every child (SIGTERM, then SIGKILL after the grace period) and cancel pending restarts. */
  async stopAll(): Promise<void> {
    this.shuttingDown = true;
    const all = [...this.instances.values()];
    for (const inst of all) {
      this.clearTimer(inst);
      inst.holdUntil = null;
      if (inst.child) {
        inst.exitPlan = { kind: 'stay' };
        this.terminate(inst);
      }
    }
    await Promise.all(all.map((i) => i.exited));
  }

  private terminate(inst: Instance): void {
    const child = inst.child;
    if (!child) return;
    // A stopped process would not act on SIGTERM until continued.
    if (inst.state === 'paused') child.kill('SIGCONT');
    child.kill('SIGTERM');
    const gen = inst.generation;
    const t = setTimeout(() => {
      if (inst.child === child && inst.generation === gen) child.kill('SIGKILL');
    }, this.opts.stopGraceMs);
    t.unref();
  }

  private find(id: string): Instance {
    const inst = this.instances.get(id);
    if (!inst) throw new SupervisorError('NOT_FOUND', `no instance ${id} (known: ${[...this.instances.keys()].join(', ') || 'none'})`);
    return inst;
  }

  private info(inst: Instance): TInstanceInfo {
    return {
      id: inst.spec.id,
      service: inst.spec.service,
      index: inst.spec.index,
      pid: inst.child?.pid ?? null,
      port: inst.spec.port,
      url: inst.spec.url,
      state: inst.state,
      restarts: inst.restarts,
      startedAt: inst.startedAt ? new Date(inst.startedAt).toISOString() : null,
      ...(inst.holdUntil ? { holdUntil: new Date(inst.holdUntil).toISOString() } : {}),
      ...(inst.lastExit ? { lastExit: inst.lastExit } : {}),
    };
  }

  private clearTimer(inst: Instance): void {
    if (inst.timer) clearTimeout(inst.timer);
    inst.timer = null;
    inst.holdUntil = null;
  }

  private spawnInstance(inst: Instance): void {
    if (this.shuttingDown || inst.child) return;
    const { spec } = inst;
    if (inst.startedAt !== null) inst.restarts++;
    inst.generation++;
    inst.state = 'starting';
    inst.healthyAt = null;
    inst.exitPlan = { kind: 'crash' };
    inst.stderrTail = [];
    inst.startedAt = Date.now();
    const child = spawn(spec.command, spec.args, {
      cwd: spec.cwd,
      env: spec.env as NodeJS.ProcessEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    inst.child = child;
    let resolveExit!: () => void;
    inst.exited = new Promise<void>((r) => (resolveExit = r));
    this.opts.logs.attach(spec.id, spec.service, child.stdout, null);
    child.stderr?.setEncoding('utf8');
    let partial = '';
    child.stderr?.on('data', (chunk: string) => {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop() ?? '';
      for (const l of parts) {
        if (l.trim() === '') continue;
        inst.stderrTail.push(l);
        if (inst.stderrTail.length > 20) inst.stderrTail.shift();
        this.opts.logs.push(spec.id, spec.service, wrapText(l, spec.service, spec.id, 'warn'));
      }
    });
    child.on('error', (err) => {
      // spawn failure (e.g. node binary missing): reported like an exit
      inst.stderrTail.push(err.message);
      this.opts.logs.note(spec.id, spec.service, 'error', `spawn failed: ${err.message}`);
    });
    child.on('exit', (code, signal) => {
      if (inst.child !== child) return;
      this.onExit(inst, code, signal);
      resolveExit();
    });
    // 'exit' is not emitted when spawn itself fails; 'close' always is.
    child.on('close', (code, signal) => {
      if (inst.child !== child) return resolveExit();
      this.onExit(inst, code, signal);
      resolveExit();
    });
    this.opts.logs.note(spec.id, spec.service, 'info', 'instance starting', { pid: child.pid, port: spec.port, restarts: inst.restarts });
    this.emit('spawn', this.info(inst));
    this.pollHealth(inst, inst.generation);
  }

  private onExit(inst: Instance, code: number | null, signal: NodeJS.Signals | null): void {
    inst.child = null;
    inst.lastExit = { code, signal, at: new Date().toISOString() };
    const plan = inst.exitPlan;
    inst.exitPlan = { kind: 'crash' };
    const { id, service } = inst.spec;
    if (this.shuttingDown || plan.kind === 'stay') {
      inst.state = 'stopped';
      this.emit('exit', this.info(inst));
      return;
    }
    if (plan.kind === 'restart') {
      this.opts.logs.note(id, service, 'warn', 'instance stopped by the supervisor, restarting', { code, signal });
      this.emit('exit', this.info(inst));
      this.spawnInstance(inst);
      return;
    }
    if (plan.kind === 'hold') {
      inst.state = 'stopped';
      inst.holdUntil = Date.now() + plan.ms;
      this.opts.logs.note(id, service, 'warn', `instance killed, held down for ${plan.ms} ms`, { code, signal });
      inst.timer = setTimeout(() => {
        inst.timer = null;
        inst.holdUntil = null;
        this.spawnInstance(inst);
      }, plan.ms);
      this.emit('exit', this.info(inst));
      return;
    }
    // Unplanned exit: a crash.
    inst.state = 'crashed';
    if (inst.healthyAt && Date.now() - inst.healthyAt > this.opts.backoffResetMs) inst.crashStreak = 0;
    const delay = Math.min(this.opts.backoffMaxMs, this.opts.backoffInitialMs * 2 ** inst.crashStreak);
    inst.crashStreak++;
    this.opts.logs.note(id, service, 'error', this.opts.restart ? `instance crashed, restarting in ${delay} ms` : 'instance crashed (restarts off)', {
      code,
      signal,
    });
    this.emit('exit', this.info(inst));
    if (this.opts.restart) {
      inst.timer = setTimeout(() => {
        inst.timer = null;
        this.spawnInstance(inst);
      }, delay);
    }
  }

  private pollHealth(inst: Instance, gen: number): void {
    const deadline = Date.now() + this.opts.healthTimeoutMs;
    const tick = async (): Promise<void> => {
      if (inst.generation !== gen || !inst.child || this.shuttingDown) return;
      // A paused child cannot answer; resume() polls again.
      if (inst.state === 'paused') return;
      let ok = false;
      try {
        const r = await fetch(inst.spec.healthUrl, { signal: AbortSignal.timeout(1000) });
        ok = r.ok;
        await r.body?.cancel();
      } catch {
        ok = false;
      }
      if (inst.generation !== gen || !inst.child) return;
      if (ok) {
        if (this.opts.onHealthy) {
          try {
            await this.opts.onHealthy(this.info(inst));
          } catch (e) {
            this.opts.logs.note(inst.spec.id, inst.spec.service, 'error', `re-applying faults/context failed: ${(e as Error).message}`);
          }
        }
        if (inst.generation !== gen || !inst.child) return;
        inst.healthyAt = Date.now();
        if (inst.state === 'starting') inst.state = 'running';
        this.opts.logs.note(inst.spec.id, inst.spec.service, 'info', 'instance healthy', { pid: inst.child.pid, port: inst.spec.port });
        this.emit('healthy', this.info(inst));
        return;
      }
      if (Date.now() > deadline) {
        this.opts.logs.note(inst.spec.id, inst.spec.service, 'error', `no healthy answer within ${this.opts.healthTimeoutMs} ms, killing`);
        inst.child.kill('SIGKILL');
        return;
      }
      setTimeout(() => void tick(), 100);
    };
    setTimeout(() => void tick(), 50);
  }
}
