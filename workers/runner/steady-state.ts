/**
 * Steady state: before any load or fault, the hypothesis must hold (every
 * instance up, the gateway answers, instances expose metrics), given time
 * for an instance restarting after an earlier run; then the consistency
 * baseline is taken, so findings older than this run are not held against it.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { toAppError } from '../../core/errors.js';
import type { SupervisorClient, TScrapeTick } from '../collectors/index.js';
import type { TSteadyStateCheck } from './ports.js';
import type { RunContext } from './run-context.js';
import type { RunObservers } from './run-observers.js';

export type { TSteadyStateCheck } from './ports.js';

/** The shop's steady-state hypothesis before load: every instance up, the gateway answers, no breaker open. */
export async function steadyStateChecks(supervisor: SupervisorClient, gatewayUrl: string, tick: TScrapeTick, probes: number): Promise<TSteadyStateCheck[]> {
  const checks: TSteadyStateCheck[] = [await instancesCheck(supervisor), await gatewayCheck(gatewayUrl, probes)];
  // A breaker left open by an earlier run stays open until traffic probes it (half-open is entered on
  // the next call), so an open breaker with healthy probes is reported, not held against the run:
  // the load's first calls close it.
  const open = tick.scrapes.flatMap((s) =>
    s.samples.filter((x) => x.metric === 'circuit_breaker_state' && x.value !== 0).map((x) => `${x.labels.breaker ?? '?'} on ${s.instance}`),
  );
  checks.push({
    name: 'circuit breakers',
    ok: true,
    detail: open.length
      ? `open with no traffic since an earlier run (the load probes them): ${open.join(', ')}`
      : `all closed on ${tick.scrapes.length} instances`,
  });
  if (tick.failed.length)
    checks.push({ name: 'every instance exposes metrics', ok: false, detail: tick.failed.map((f) => `${f.instance}: ${f.error}`).join(', ') });
  return checks;
}

/** Every instance a faultline supervisor lists is running. */
export async function instancesCheck(supervisor: SupervisorClient): Promise<TSteadyStateCheck> {
  try {
    const inst = await supervisor.instances();
    const down = inst.filter((i) => i.state !== 'running');
    return {
      name: 'instances running',
      ok: inst.length > 0 && down.length === 0,
      detail: down.length ? `not running: ${down.map((i) => `${i.id} ${i.state}`).join(', ')}` : `${inst.length} running`,
    };
  } catch (e) {
    return { name: 'instances running', ok: false, detail: toAppError(e).message };
  }
}

async function gatewayCheck(gatewayUrl: string, probes: number): Promise<TSteadyStateCheck> {
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
  return {
    name: 'gateway answers GET /products',
    ok: okProbes === probes,
    detail: `${okProbes}/${probes} ok${failures.length ? ` (${[...new Set(failures)].join(', ')})` : ''}`,
  };
}

/**
 * Hold the steady-state hypothesis (retrying every 2 s for `steadyStateWaitMs`), then capture the
 * consistency baseline. A hypothesis that does not hold aborts the run; throws when the run was stopped.
 */
export async function runSteadyState(ctx: RunContext, observers: RunObservers, firstTick: TScrapeTick): Promise<void> {
  const probes = ctx.o.steadyStateProbes ?? 5;
  // An instance restarting after an earlier run's kill needs a few seconds.
  const deadline = Date.now() + (ctx.o.steadyStateWaitMs ?? 30_000);
  let checks = await ctx.sut.steadyStateChecks(firstTick, probes);
  while (!checks.every((c) => c.ok) && Date.now() < deadline && !ctx.signal.aborted) {
    await sleep(2000);
    checks = await ctx.sut.steadyStateChecks(await observers.tick(), probes);
  }
  const ok = checks.every((c) => c.ok);
  await ctx.emit({ type: 'steady_state', ok, checks });
  if (!ok)
    ctx.abort(
      `steady state not met: ${checks
        .filter((c) => !c.ok)
        .map((c) => `${c.name} (${c.detail})`)
        .join('; ')}`,
    );
  ctx.throwIfStopped();
  ctx.baseline = await captureBaseline(ctx);
}

/** The consistency findings present before the load; without one every finding counts (said in a note). */
async function captureBaseline(ctx: RunContext) {
  if (ctx.experiment.expectations.invariants.length === 0) return undefined;
  try {
    const baseline = await ctx.sut.captureBaseline(ctx.experiment.expectations.invariants);
    if (baseline.findings.length > 0)
      await ctx.emit({
        type: 'note',
        level: 'info',
        msg: `consistency baseline: ${baseline.findings.length} finding(s) before the load, reported as pre-existing`,
      });
    return baseline;
  } catch (e) {
    await ctx.emit({ type: 'note', level: 'warn', msg: `no consistency baseline (every finding counts against this run): ${toAppError(e).message}` });
    return undefined;
  }
}
