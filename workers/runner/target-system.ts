/**
 * A target file as the runner's system under test (docs/targets.md): the
 * load goes to its entry, network faults to its edges (the Toxiproxy API it
 * names; faultline's own fault proxy speaks it), process faults through its
 * commands, metrics from its scrape URLs, settling and consistency from its
 * SQL. Nothing here knows the shop.
 *
 *   prepare ─▶ create the listed proxies that do not exist (removed again at the end)
 *           └─▶ entry.setup once (a login): captured values go into the entry headers
 *               and the scenario's requests, so every VU and every segment gets them
 *   metrics ─▶ scrape URLs + the http_sd targets (re-resolved whenever the collector re-reads)
 *             + a Prometheus server's /federate for the families the run keeps (metrics.prometheus)
 *   steady state ─▶ GET entry.health × probes, every scrape URL answers
 *   faults ─▶ edges: fault catalog (Toxiproxy, ledger) │ processes: commands (kill/pause/restart, ledger)
 *   nemesis ─▶ its proxies and instances (or its supervisor's), the kinds it can take
 *   settle ─▶ settled SQL returns no row
 *   logs ─▶ logs.kind file | elasticsearch | supervisor ─▶ LogStore (tagged with the run); violation trails from them
 *   analysis ─▶ target invariants + acknowledged writes; SLOs from metrics.requests; breakers through metrics.breakers
 */
import { applyRecordedFault, type TFaultContext } from '../../chaos/index.js';
import { AppError } from '../../core/errors.js';
import type { TScenario } from '../../loadtests/index.js';
import { targetNemesisKinds, type TNemesisTopology } from '../../experiments/index.js';
import { breakerMapping, listedEdges, type TEnv, type TTarget } from '../../targets/index.js';
import { SupervisorClient, type TScrapeInstance, type TScrapeTick } from '../collectors/index.js';
import type { TPlatform } from '../platform.js';
import {
  applyCommandFault,
  captureTargetBaseline,
  checkCommandFault,
  checkTargetConsistency,
  entryHeaders,
  fillScenarioVars,
  isTargetSettled,
  resolveHttpSd,
  runEntrySetup,
  targetTrailReader,
  undoCommandFault,
  type TSetupVars,
} from '../targets/index.js';
import type { TAppliedFaultHandle, TRunnerDeps, TSteadyStateCheck, TSystemUnderTest } from './ports.js';
import { fetchTopology } from './plan-faults.js';
import { instancesCheck } from './steady-state.js';
import { targetLogReader, traceTargetViolations } from './target-logs.js';

const PROCESS_FAULTS = new Set(['kill', 'pause', 'restart']);

/** A scrape URL as a collector instance: scraped at the URL itself, whatever its path (`/metrics`, `/actuator/prometheus`). */
function scrapeInstance(id: string, service: string, index: number, url: string): TScrapeInstance {
  return {
    id,
    service,
    index,
    pid: null,
    port: Number(new URL(url).port) || 0,
    url: new URL(url).origin,
    metricsUrl: url,
    state: 'running' as const,
    restarts: 0,
  };
}

/**
 * The target's Prometheus server (`metrics.prometheus`) as one collector instance: its federation
 * endpoint, asked for the latest value of every series of the families the run keeps — scraped each
 * second like any instance, so the run's charts are live and its window is the run's. The series
 * count as the target's request service (`metrics.requests.service`, else the target's name).
 */
export function prometheusInstance(t: TTarget, families: readonly string[]): TScrapeInstance | undefined {
  const prom = t.metrics?.prometheus;
  if (!prom || families.length === 0) return undefined;
  const names = families.map((f) => f.replace(/[^A-Za-z0-9_:]/g, '')).join('|');
  const match = `{__name__=~"(${names})(_bucket|_count|_sum)?"}`;
  const url = `${prom.replace(/\/+$/, '')}/federate?match[]=${encodeURIComponent(match)}`;
  return scrapeInstance(`${t.name}-prometheus`, t.metrics?.requests?.service ?? t.name, t.metrics?.scrape.length ?? 0, url);
}

/** The target's scrape URLs as collector instances. */
function scrapeInstances(t: TTarget): TScrapeInstance[] {
  return (t.metrics?.scrape ?? []).map((url, i) => scrapeInstance(`${t.name}-${i}`, t.name, i, url));
}

/**
 * The http_sd targets as collector instances, asked again on every call (the collector
 * re-reads its instances every few scrapes): an instance that appears or moves to a new
 * port mid-run is followed. Its id is the `instance` label (as Prometheus takes it), else the
 * address; its service the `service` or `job` label.
 */
async function discoveredInstances(t: TTarget, sd: string): Promise<TScrapeInstance[]> {
  const found = await resolveHttpSd(sd);
  const offset = t.metrics?.scrape.length ?? 0;
  return found.map((x, i) => scrapeInstance(x.labels.instance ?? `${t.name}-${x.address}`, x.labels.service ?? x.labels.job ?? t.name, offset + i, x.url));
}

async function proxyApi(base: string, method: 'GET' | 'POST' | 'DELETE', p: string, body?: unknown): Promise<unknown> {
  const r = await fetch(`${base.replace(/\/+$/, '')}${p}`, {
    method,
    signal: AbortSignal.timeout(5000),
    ...(body ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}),
  });
  const text = await r.text();
  if (!r.ok && !(method === 'DELETE' && r.status === 404))
    throw new AppError('UNAVAILABLE', `fault proxy ${method} ${p}: HTTP ${r.status} ${text.slice(0, 200)}`);
  return text ? JSON.parse(text) : undefined;
}

/** Create the listed proxies the Toxiproxy server does not have; the undo deletes exactly those. */
async function ensureProxies(t: TTarget): Promise<() => Promise<void>> {
  const edges = t.edges;
  if (!edges || edges.source !== 'listed') return async () => undefined;
  const existing = (await proxyApi(edges.toxiproxy, 'GET', '/proxies')) as Record<string, unknown>;
  const created: string[] = [];
  for (const p of edges.proxies) {
    if (!p.listen || !p.upstream || p.name in existing) continue;
    await proxyApi(edges.toxiproxy, 'POST', '/proxies', { name: p.name, listen: p.listen, upstream: p.upstream, enabled: true });
    created.push(p.name);
  }
  return async () => {
    for (const name of created) await proxyApi(edges.toxiproxy, 'DELETE', `/proxies/${encodeURIComponent(name)}`);
  };
}

async function healthChecks(t: TTarget, vars: TSetupVars, tick: TScrapeTick, probes: number): Promise<TSteadyStateCheck[]> {
  const url = `${t.entry.url.replace(/\/+$/, '')}${t.entry.health}`;
  let ok = 0;
  const failures = new Set<string>();
  for (let i = 0; i < probes; i++) {
    try {
      const r = await fetch(url, { headers: entryHeaders(t, vars), signal: AbortSignal.timeout(3000) });
      await r.arrayBuffer();
      if (r.ok) ok++;
      else failures.add(`HTTP ${r.status}`);
    } catch (e) {
      failures.add((e as Error).message);
    }
  }
  const checks: TSteadyStateCheck[] = [
    // a faultline supervisor lists its instances: every one must be running (one left paused or stopped by an earlier run is not steady)
    ...(t.processes?.kind === 'supervisor' ? [await instancesCheck(new SupervisorClient({ url: t.processes.url }))] : []),
    { name: `entry answers GET ${t.entry.health}`, ok: ok === probes, detail: `${ok}/${probes} ok${failures.size ? ` (${[...failures].join(', ')})` : ''}` },
  ];
  if (tick.failed.length) checks.push({ name: 'every metrics URL answers', ok: false, detail: tick.failed.map((f) => `${f.instance}: ${f.error}`).join(', ') });
  return checks;
}

/**
 * The run's scenario with the target's acknowledged writes (their ids go in the history), entry
 * headers and the values entry.setup captured (filled in once here: every segment gets them).
 */
function adaptScenario(t: TTarget, vars: TSetupVars, s: TScenario): TScenario {
  const acks: TScenario['acknowledged'] = [
    ...s.acknowledged,
    ...t.acknowledged.filter((a) => !s.acknowledged.some((b) => b.route === a.route)).map(({ route, status, id }) => ({ route, status, id })),
  ].map((a: TScenario['acknowledged'][number]) => {
    // the target's request key, where the scenario names none: the load records it with every attempt;
    // and the response values its `agree` compares with the row
    const mine = t.acknowledged.find((b) => b.route === a.route);
    const key = a.key ?? mine?.key;
    const record = [...new Set([...(a.record ?? []), ...Object.values(mine?.agree ?? {})])];
    return { ...a, ...(key ? { key } : {}), ...(record.length ? { record } : {}) };
  });
  const requests = s.requests?.map((r) => ({ ...r, headers: { ...t.entry.headers, ...r.headers } }));
  return fillScenarioVars({ ...s, acknowledged: acks, ...(requests ? { requests } : {}) }, vars);
}

/** Ensure the proxies, then run entry.setup once; a failed setup removes the proxies it created and names its step. */
async function prepareTarget(t: TTarget, keep: (vars: TSetupVars) => void): Promise<() => Promise<void>> {
  const unprepare = await ensureProxies(t);
  try {
    keep(await runEntrySetup(t));
  } catch (e) {
    await unprepare().catch(() => undefined);
    throw e;
  }
  return unprepare;
}

/**
 * A process fault of a commands target, recorded in the fault ledger like
 * every other fault: the row names the target file, instance and fault (no
 * command line), so the reconciler or a halt can undo it after a crash.
 */
function commandFault(t: TTarget, file: string, spec: unknown, ctx: TFaultContext): Promise<TAppliedFaultHandle> | undefined {
  const { type, target, params } = (spec ?? {}) as { type?: string; target?: unknown; params?: unknown };
  if (t.processes?.kind !== 'commands' || !type || !PROCESS_FAULTS.has(type)) return undefined;
  const processes = t.processes;
  const instance = String(target);
  return (async () => {
    checkCommandFault(processes, type, instance);
    const undo = { targetFile: file, instance, fault: type as 'kill' | 'pause' | 'restart' };
    return applyRecordedFault(
      ctx,
      { type, target: instance, params: params ?? {}, undo: { commands: [undo] } },
      () => applyCommandFault(processes, type, instance),
      // a pause whose command failed (or timed out) may still have stopped it: resume is harmless either way;
      // a failed kill is not followed by a start, which could run the service twice
      type === 'pause' ? { revertOnFailure: async () => void (await undoCommandFault(undo)) } : {},
    );
  })();
}

/**
 * What a nemesis draws from: with a faultline supervisor, its live edges and instances (as for
 * the shop); otherwise the listed proxies and the command instances. The kinds are those the
 * target can take.
 */
async function targetTopology(t: TTarget): Promise<TNemesisTopology> {
  const kinds = targetNemesisKinds(t);
  if (t.processes?.kind === 'supervisor') return { ...(await fetchTopology(t.processes.url)), kinds };
  const edges = listedEdges(t);
  const instances = t.processes?.kind === 'commands' ? t.processes.instances.map(({ id, service }) => ({ id, service })) : [];
  return { edges, instances, kinds };
}

/**
 * The system under test described by target file `t`, read from `file` (absolute: the ledger names
 * it for undoing process faults) with `env` (its databases' variables are read from it too).
 */
export function targetSystem(t: TTarget, p: TPlatform, deps: TRunnerDeps, file: string, env: TEnv = process.env): TSystemUnderTest {
  const requests = t.metrics?.requests;
  const mapping = t.metrics?.breakers ? breakerMapping(t.metrics.breakers) : undefined;
  const breakers = mapping?.metric;
  const sd = t.metrics?.http_sd;
  const supervisor = t.processes?.kind === 'supervisor' ? new SupervisorClient({ url: t.processes.url }) : undefined;
  const kept = [...(requests ? [requests.histogram] : []), ...(breakers ? [breakers] : []), ...(t.metrics?.keep ?? [])];
  const prometheus = prometheusInstance(t, kept);
  // the run's state (configuration stays on `t`): what entry.setup captured
  let vars: TSetupVars = {};
  return {
    name: t.name,
    entryUrl: t.entry.url,
    faultUrls: { toxiproxyUrl: t.edges?.toxiproxy ?? p.toxiproxyUrl, supervisorUrl: t.processes?.kind === 'supervisor' ? t.processes.url : '' },
    prepare: () => prepareTarget(t, (v) => (vars = v)),
    // process faults of a commands target run its commands; everything else goes through the fault catalog
    applyFault: (spec, ctx) => commandFault(t, file, spec, ctx) ?? deps.applyFault(spec, ctx),
    instances: async () => [...scrapeInstances(t), ...(prometheus ? [prometheus] : []), ...(sd ? await discoveredInstances(t, sd) : [])],
    topology: () => targetTopology(t),
    keepMetrics: kept,
    // a faultline supervisor tags its instances' log lines with the run
    setRunContext: async (runId) => void (await supervisor?.setContext(runId)),
    // the target's own logs (a file, an Elasticsearch index, a supervisor), into the platform's log store
    logReader: (o) => targetLogReader(t, o),
    adaptScenario: (s) => adaptScenario(t, vars, s),
    steadyStateChecks: (tick, probes) => healthChecks(t, vars, tick, probes),
    captureBaseline: (names) => captureTargetBaseline(t, names, env),
    isSettled: (baseline) => isTargetSettled(t, env, baseline),
    analysis: {
      // the first violations of each invariant carry the run's log lines naming their ids (logs.id_field)
      consistency: async (input) => {
        const r = await checkTargetConsistency(t, input, env);
        if ((!t.logs && t.trails.length === 0) || !input.runId) return r;
        if (t.logs) await p.logStore.flush();
        const trails = t.trails.length ? targetTrailReader(t, env) : undefined;
        try {
          return {
            infoOps: r.infoOps,
            invariants: await traceTargetViolations(t, r.invariants, {
              ...(t.logs ? { logs: p.logStore } : {}),
              ...(trails ? { steps: (ids: readonly string[]) => trails.steps(ids) } : {}),
              runId: input.runId,
              ...(input.window ? { window: input.window } : {}),
            }),
          };
        } finally {
          await trails?.close();
        }
      },
      // breaker timelines and expectations read the target's own breaker metric
      ...(mapping ? { breakers: { mapping } } : {}),
      ...(requests
        ? {
            server: {
              service: requests.service ?? t.name,
              histogram: {
                name: requests.histogram,
                route: requests.route_label,
                method: requests.method_label,
                status: requests.status_label,
                unit: requests.unit,
              },
            },
          }
        : {}),
    },
  };
}
