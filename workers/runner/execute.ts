/**
 * The run lifecycle: one experiment execution, from steady-state check to
 * verdict, with every fault removed on every path out.
 *
 *   queued ─▶ steady_state ─▶ running ─────────────▶ recovering ─▶ analysing ─▶ passed|failed
 *     lock,     context,        load + timeline        faults gone,   collectors
 *     heartbeat collectors,     (apply/remove),        quiescence     stopped,
 *               health probes   abort conditions                      analysis+report
 *        │            │              │                     │
 *        └────────────┴──────────────┴─────────────────────┴──▶ aborted (condition, request)
 *                                                               errored (exception, lost lock)
 *   finally: remove faults ▸ clear run context ▸ stop collectors ▸ release lock
 *
 * A worker that dies mid-run leaves the run non-terminal with a stale
 * heartbeat: the stall sweeper ends it `errored`, and the fault reconciler
 * (run ended / holder gone) removes what it had applied.
 */
import { setMaxListeners } from 'node:events';
import path from 'node:path';
import { eq } from 'drizzle-orm';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppError, toAppError } from '../../core/errors.js';
import { reports, runs, violations, type TRunState } from '../../db/schema/index.js';
import { parseDurationMs, type TExperiment, type TTimedFault } from '../../experiments/index.js';
import type { TLoadResult, TScenario } from '../../loadtests/index.js';
import { LogCollector, MetricsCollector, SupervisorClient, type TScrapeTick } from '../collectors/index.js';
import type { TPlatform } from '../platform.js';
import { recordCollectorLag } from '../self-metrics.js';
import { AbortEvaluator } from './abort.js';
import { RunEventSink } from './event-sink.js';
import { runControlChannel, type TRunEvent, type TStoredRunEvent } from './events.js';
import { heartbeat, isTerminal, transitionRun } from './lifecycle.js';
import { TargetLock } from './lock.js';
import type { TAppliedFaultHandle, TFaultWindowRecord, TRunnerDeps } from './ports.js';
import { executorDurationMs, faultExpiry, planTimeline } from './timeline.js';

export class TargetBusyError extends Error {
  constructor(readonly target: string, readonly holder: string | null) {
    super(`target ${target} is busy (run ${holder ?? 'unknown'})`);
  }
}

export interface ExecuteRunOptions {
  platform: TPlatform;
  deps: TRunnerDeps;
  /** Identity of this worker process (hostname:pid:random), stored on the run. */
  workerId: string;
  /**
   * Heartbeat and lock renewal period.
   * @defaultValue 2000
   */
  heartbeatMs?: number;
  /**
   * Target lock expiry; must exceed a few heartbeats.
   * @defaultValue 15000
   */
  lockTtlMs?: number;
  /**
   * Metrics scrape period.
   * @defaultValue 1000
   */
  scrapeIntervalMs?: number;
  /**
   * How long the steady state may take to hold (instances restarting) before the run is aborted.
   * @defaultValue 30000
   */
  steadyStateWaitMs?: number;
  /**
   * Requests sent through the gateway in the steady-state check.
   * @defaultValue 5
   */
  steadyStateProbes?: number;
  /**
   * Longest a run may take before it is ended errored.
   * @defaultValue twice the planned load + quiescence, plus 2 minutes
   */
  timeBudgetMs?: number;
  /** Aborts the run when the worker shuts down. */
  signal?: AbortSignal;
  /** Every stored event (the CLI's in-process progress display). */
  onEvent?: (e: TStoredRunEvent) => void;
  /** Collector CPU accounting hook (bench). */
  onCollectorTick?: (tick: TScrapeTick) => void;
}

interface TActiveFault {
  fault: TTimedFault;
  handle: TAppliedFaultHandle;
  window: TFaultWindowRecord;
}

/**
 * Execute one queued run to its end. Returns the final state. Throws only
 * TargetBusyError (the caller retries later) or when the run row is missing.
 */
export async function executeRun(runId: string, o: ExecuteRunOptions): Promise<TRunState> {
  const p = o.platform;
  const [row] = await p.db.select().from(runs).where(eq(runs.id, runId));
  if (!row) throw new AppError('NOT_FOUND', `run ${runId} not found`);
  const sink = new RunEventSink(p.db, p.redis, p.prefix, runId, o.onEvent);
  if (isTerminal(row.state)) return row.state;
  if (row.state !== 'queued') {
    // A previous attempt of this job died mid-run (BullMQ handed the stalled job to us).
    const reason = `worker ${row.workerId ?? '?'} stopped during ${row.state}; the run cannot be resumed`;
    if (await transitionRun(p.db, runId, 'errored', { reason })) {
      await sink.emit({ type: 'phase', phase: 'errored', reason });
      await sink.emit({ type: 'verdict', verdict: 'errored', reason });
    }
    await sink.flush();
    const [after] = await p.db.select({ state: runs.state }).from(runs).where(eq(runs.id, runId));
    return after?.state ?? 'errored';
  }

  const lock = new TargetLock(p.redis, row.target, runId, o.lockTtlMs ?? 15_000, p.prefix);
  if (!(await lock.acquire())) throw new TargetBusyError(row.target, await TargetLock.holder(p.redis, row.target, p.prefix));

  const experiment = row.definition as TExperiment;
  const supervisor = new SupervisorClient({ url: p.supervisorUrl });
  const abortCtl = new AbortController();
  // the load engine listens on this signal once per VU: hundreds of listeners are expected
  setMaxListeners(0, abortCtl.signal);
  let abortReason: string | undefined;
  let errorReason: string | undefined;
  const abort = (reason: string, kind: 'abort' | 'error' = 'abort') => {
    if (abortCtl.signal.aborted) return;
    if (kind === 'error') errorReason = reason;
    else abortReason = reason;
    abortCtl.abort(new Error(reason));
  };
  const onShutdown = () => abort('worker shutting down', 'error');
  o.signal?.addEventListener('abort', onShutdown, { once: true });

  const active = new Map<string, TActiveFault>();
  const windows: TFaultWindowRecord[] = experiment.faults.map((f) => ({
    name: f.name,
    type: f.fault.type,
    target: safeTargetText(o.deps, f.fault),
    plannedAtMs: f.at,
    plannedDurationMs: f.duration,
    appliedAt: null,
    removedAt: null,
  }));
  const timers: NodeJS.Timeout[] = [];
  let metrics: MetricsCollector | undefined;
  let logs: LogCollector | undefined;
  let hbTimer: NodeJS.Timeout | undefined;
  let budgetTimer: NodeJS.Timeout | undefined;
  const sub = p.newRedis({ subscriber: true });
  const emit = (e: TRunEvent) => sink.emit(e);
  const startedAt = Date.now();
  let state: TRunState = 'queued';
  const moveTo = async (to: TRunState, reason?: string): Promise<void> => {
    if (!(await transitionRun(p.db, runId, to, { reason, workerId: o.workerId }))) {
      const [r] = await p.db.select({ state: runs.state, reason: runs.reason }).from(runs).where(eq(runs.id, runId));
      throw new AppError('CONFLICT', `run was ended elsewhere (${r?.state}: ${r?.reason ?? ''}) while moving to ${to}`);
    }
    state = to;
    await emit({ type: 'phase', phase: to, ...(reason ? { reason } : {}) });
  };

  const removeFault = async (name: string) => {
    const a = active.get(name);
    if (!a) return;
    active.delete(name);
    try {
      await a.handle.remove();
      a.window.removedAt = Date.now();
      await emit({ type: 'fault.removed', name, faultId: a.handle.id });
    } catch (e) {
      // the ledger row is marked failed; the reconciler keeps retrying the removal
      await emit({ type: 'fault.removed', name, faultId: a.handle.id, error: toAppError(e).message });
    }
  };
  // An apply still in flight when the run ends must land (and then be removed) before we let go.
  const pendingApplies = new Set<Promise<void>>();
  const removeAll = async () => {
    for (const t of timers) clearTimeout(t);
    await Promise.allSettled([...pendingApplies]);
    await Promise.all([...active.keys()].map((n) => removeFault(n)));
  };

  let scenario: TScenario | undefined;
  let load: TLoadResult | undefined;
  try {
    await moveTo('steady_state');
    hbTimer = setInterval(() => {
      void heartbeat(p.db, runId).catch(() => undefined);
      void lock
        .renew()
        .then((ok) => {
          if (!ok) abort('lost the target lock (heartbeat too late); another run may hold the target', 'error');
        })
        .catch(() => undefined);
    }, o.heartbeatMs ?? 2000);
    await sub.subscribe(runControlChannel(runId, p.prefix));
    sub.on('message', (_ch, msg) => {
      try {
        const m = JSON.parse(msg) as { action?: string; reason?: string };
        if (m.action === 'abort') abort(m.reason ? `abort requested: ${m.reason}` : 'abort requested');
      } catch {
        /* not ours */
      }
    });

    await supervisor.setContext(runId);
    const abortEval = new AbortEvaluator(experiment.abort, experiment.steady_state.slos);
    metrics = new MetricsCollector({
      db: p.db,
      runId,
      instances: () => supervisor.instances(),
      intervalMs: o.scrapeIntervalMs ?? 1000,
      onTick: (t) => {
        recordCollectorLag('metrics', (Date.now() - t.t) / 1000);
        o.onCollectorTick?.(t);
      },
    });
    logs = new LogCollector({
      supervisor,
      store: p.logStore,
      runId,
      onBatch: (records) => recordCollectorLag('logs', (Date.now() - Math.max(...records.map((r) => r.time.getTime()))) / 1000),
    });
    await logs.start();
    const firstTick = await metrics.tick();
    metrics.start();

    // ── steady state ───────────────────────────────────────────────
    scenario = o.deps.scenarioFor(await o.deps.loadScenario(experiment.load.scenario), experiment.load, p.gatewayUrl);
    // A run whose worker is alive but stuck (a hung load, a proxy that never answers) still heartbeats:
    // a time budget of twice the planned run plus slack ends it errored instead of holding the target forever.
    const plannedLoadMs = executorDurationMs(scenario.load as never, (v) => parseDurationMs(v)) ?? 10 * 60_000;
    const budgetMs = o.timeBudgetMs ?? 2 * (plannedLoadMs + experiment.quiescence) + 120_000;
    budgetTimer = setTimeout(() => abort(`run exceeded its time budget of ${Math.round(budgetMs / 1000)}s`, 'error'), budgetMs);
    // An instance restarting after an earlier run's kill needs a few seconds: the hypothesis gets
    // `steadyStateWaitMs` to hold before the run is aborted for it.
    const ssDeadline = Date.now() + (o.steadyStateWaitMs ?? 30_000);
    let checks = await steadyStateChecks(supervisor, p.gatewayUrl, firstTick, o.steadyStateProbes ?? 5);
    while (!checks.every((c) => c.ok) && Date.now() < ssDeadline && !abortCtl.signal.aborted) {
      await sleep(2000);
      checks = await steadyStateChecks(supervisor, p.gatewayUrl, await metrics.tick(), o.steadyStateProbes ?? 5);
    }
    const ok = checks.every((c) => c.ok);
    await emit({ type: 'steady_state', ok, checks });
    if (!ok) abort(`steady state not met: ${checks.filter((c) => !c.ok).map((c) => `${c.name} (${c.detail})`).join('; ')}`);
    if (abortCtl.signal.aborted) throw abortCtl.signal.reason;

    // ── running: load + fault timeline + abort conditions ─────────
    await moveTo('running');
    const plan = planTimeline(experiment.faults);
    let loadStart: number | undefined;
    const startTimeline = (t0: number) => {
      if (loadStart !== undefined) return;
      loadStart = t0;
      for (const action of plan) {
        const delay = Math.max(0, t0 + action.at - Date.now());
        timers.push(
          setTimeout(() => {
            if (abortCtl.signal.aborted) return;
            if (action.kind === 'remove') void removeFault(action.fault.name);
            else {
              const pr = applyTimed(action.fault, t0);
              pendingApplies.add(pr);
              void pr.finally(() => pendingApplies.delete(pr));
            }
          }, delay),
        );
      }
    };
    const applyTimed = async (f: TTimedFault, t0: number) => {
      const w = windows.find((x) => x.name === f.name)!;
      try {
        const handle = await o.deps.applyFault(f.fault, {
          toxiproxyUrl: p.toxiproxyUrl,
          supervisorUrl: p.supervisorUrl,
          db: p.db,
          runId,
          expiresAt: faultExpiry(t0, f),
        });
        w.appliedAt = Date.now();
        active.set(f.name, { fault: f, handle, window: w });
        await emit({ type: 'fault.applied', name: f.name, faultId: handle.id, fault: { type: f.fault.type, target: f.fault.target }, plannedAt: t0 + f.at, until: t0 + f.at + f.duration });
        // removal timer fired while apply was still in flight: remove now
        if (Date.now() >= t0 + f.at + f.duration || abortCtl.signal.aborted) await removeFault(f.name);
      } catch (e) {
        const msg = toAppError(e).message;
        await emit({ type: 'fault.failed', name: f.name, error: msg });
        abort(`fault ${f.name} could not be applied: ${msg}`, 'error');
      }
    };
    try {
      load = await o.deps.runLoad(scenario, {
        baseUrl: p.gatewayUrl,
        signal: abortCtl.signal,
        onStart: (t) => startTimeline(t),
        onHistory: (e) => abortEval.addHistory(e),
        onSecond: (s) => {
          // engines without onStart: the first second marks the load start
          startTimeline(s.t);
          const errors = Object.values(s.errorsByKind).reduce((a, b) => a + b, 0);
          abortEval.addSecond({ t: s.t, requests: s.rps, errors });
          void emit({
            type: 'load.second',
            second: { t: s.t, rps: s.rps, target: s.target, errors, errorsByKind: s.errorsByKind, p50: s.p50, p95: s.p95, p99: s.p99, cp99: s.cp99, activeVus: s.activeVus, dropped: s.dropped },
          });
          const trip = abortEval.check(s.t + 1000);
          if (trip) {
            void emit({ type: 'abort', reason: trip.reason, condition: trip.condition });
            abort(trip.reason);
          }
        },
      });
    } catch (e) {
      if (!abortCtl.signal.aborted) throw e;
    }
    // Every path out of `running` removes the faults before anything else.
    await removeAll();
    if (abortCtl.signal.aborted) throw abortCtl.signal.reason;

    // ── recovering: no faults, collectors still on, quiescence ────
    await moveTo('recovering');
    await sleep(experiment.quiescence, undefined, { signal: abortCtl.signal }).catch(() => undefined);
    if (abortCtl.signal.aborted) throw abortCtl.signal.reason;

    // ── analysing ───────────────────────────────────────────────────
    await moveTo('analysing');
    await stopCollectors(metrics, logs);
    metrics = undefined;
    logs = undefined;
    const out = await analyseAndStore(o, runId, row.reportDir, experiment, scenario, startedAt, 'completed', null, load, windows);
    const final = out.verdict === 'passed' || out.verdict === 'failed' ? out.verdict : 'errored';
    await transitionRun(p.db, runId, final, { reason: out.reason ?? undefined, summary: out.summary });
    state = final;
    await emit({ type: 'phase', phase: final, ...(out.reason ? { reason: out.reason } : {}) });
    await emit({ type: 'verdict', verdict: final, ...(out.reason ? { reason: out.reason } : {}), summary: out.summary, reportDir: out.dir });
  } catch (e) {
    await removeAll();
    const ended: 'aborted' | 'errored' = abortReason && !errorReason ? 'aborted' : 'errored';
    const reason = (ended === 'aborted' ? abortReason : errorReason) ?? toAppError(e).message;
    if (!abortCtl.signal.aborted) abortCtl.abort(e);
    await stopCollectors(metrics, logs);
    metrics = undefined;
    logs = undefined;
    const reached = state as TRunState;
    if (!isTerminal(reached)) {
      // A report for aborted/errored runs too (best effort): what happened until the end.
      let summary: Record<string, unknown> | undefined;
      let dir: string | undefined;
      if ((reached !== 'queued' && reached !== 'steady_state') || load) {
        try {
          const out = await analyseAndStore(o, runId, row.reportDir, experiment, scenario, startedAt, ended, reason, load, windows);
          summary = out.summary;
          dir = out.dir;
        } catch (ae) {
          await emit({ type: 'note', level: 'warn', msg: `no report for this ${ended} run: ${toAppError(ae).message}` });
        }
      }
      if (await transitionRun(p.db, runId, ended, { reason, ...(summary ? { summary } : {}) })) {
        state = ended;
        await emit({ type: 'phase', phase: ended, reason });
        await emit({ type: 'verdict', verdict: ended, reason, ...(summary ? { summary } : {}), ...(dir ? { reportDir: dir } : {}) });
      }
    }
  } finally {
    await removeAll().catch(() => undefined);
    if (hbTimer) clearInterval(hbTimer);
    if (budgetTimer) clearTimeout(budgetTimer);
    o.signal?.removeEventListener('abort', onShutdown);
    await stopCollectors(metrics, logs).catch(() => undefined);
    await supervisor.setContext(null).catch(() => undefined);
    sub.disconnect();
    await lock.release().catch(() => undefined);
    await sink.flush();
  }
  const [after] = await p.db.select({ state: runs.state }).from(runs).where(eq(runs.id, runId));
  return after?.state ?? state;
}

function safeTargetText(deps: TRunnerDeps, spec: unknown): string {
  try {
    return deps.targetText(spec);
  } catch {
    return JSON.stringify((spec as { target?: unknown }).target ?? null);
  }
}

async function stopCollectors(metrics: MetricsCollector | undefined, logs: LogCollector | undefined): Promise<void> {
  await Promise.all([metrics?.stop({ finalScrape: true }), logs?.stop()]);
}

/** Steady-state hypothesis before load: every instance up, the gateway answers, no breaker open. */
export async function steadyStateChecks(
  supervisor: SupervisorClient,
  gatewayUrl: string,
  tick: TScrapeTick,
  probes: number,
): Promise<{ name: string; ok: boolean; detail: string }[]> {
  const checks: { name: string; ok: boolean; detail: string }[] = [];
  try {
    const inst = await supervisor.instances();
    const down = inst.filter((i) => i.state !== 'running');
    checks.push({ name: 'instances running', ok: inst.length > 0 && down.length === 0, detail: down.length ? `not running: ${down.map((i) => `${i.id} ${i.state}`).join(', ')}` : `${inst.length} running` });
  } catch (e) {
    checks.push({ name: 'instances running', ok: false, detail: toAppError(e).message });
  }
  let okProbes = 0;
  const failures: string[] = [];
  for (let i = 0; i < probes; i++) {
    try {
      const r = await fetch(`${gatewayUrl.replace(/\/+$/, '')}/products`, { signal: AbortSignal.timeout(3000) });
      await r.arrayBuffer();
      if (r.ok) okProbes++;
      else failures.push(`HTTP ${r.status}`);
    } catch (e) {
      failures.push((e as Error).message);
    }
  }
  checks.push({ name: 'gateway answers GET /products', ok: okProbes === probes, detail: `${okProbes}/${probes} ok${failures.length ? ` (${[...new Set(failures)].join(', ')})` : ''}` });
  // A breaker left open by an earlier run stays open until traffic probes it (half-open is entered on
  // the next call), so an open breaker with healthy probes is reported, not held against the run:
  // the load's first calls close it.
  const open = tick.scrapes.flatMap((s) => s.samples.filter((x) => x.metric === 'circuit_breaker_state' && x.value !== 0).map((x) => `${x.labels.breaker ?? '?'} on ${s.instance}`));
  checks.push({
    name: 'circuit breakers',
    ok: true,
    detail: open.length ? `open with no traffic since an earlier run (the load probes them): ${open.join(', ')}` : `all closed on ${tick.scrapes.length} instances`,
  });
  if (tick.failed.length) checks.push({ name: 'every instance exposes metrics', ok: false, detail: tick.failed.map((f) => `${f.instance}: ${f.error}`).join(', ') });
  return checks;
}

async function analyseAndStore(
  o: ExecuteRunOptions,
  runId: string,
  reportDirOverride: string | null,
  experiment: TExperiment,
  scenario: TScenario | undefined,
  startedAt: number,
  ended: 'completed' | 'aborted' | 'errored',
  reason: string | null,
  load: TLoadResult | undefined,
  windows: TFaultWindowRecord[],
) {
  const p = o.platform;
  const dir = path.resolve(reportDirOverride ?? path.join(p.reportDir, runId));
  const out = await o.deps.analyse({
    runId,
    experiment,
    scenario,
    startedAt,
    endedAt: Date.now(),
    ended,
    reason,
    load,
    faults: windows,
    db: p.db,
    shopDatabaseUrl: p.shopDatabaseUrl,
    logStore: p.logStore,
    reportDir: dir,
  });
  await p.db.transaction(async (tx) => {
    await tx.delete(violations).where(eq(violations.runId, runId));
    if (out.violations.length) await tx.insert(violations).values(out.violations.map((v) => ({ runId, kind: v.kind, name: v.name, message: v.message, evidence: v.evidence ?? {} })));
    await tx
      .insert(reports)
      .values({ runId, schemaVersion: out.schemaVersion, report: out.report, dir, files: out.files })
      .onConflictDoUpdate({ target: reports.runId, set: { schemaVersion: out.schemaVersion, report: out.report, dir, files: out.files, createdAt: new Date() } });
  });
  return { ...out, dir };
}
