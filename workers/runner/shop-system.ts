/**
 * The bundled shop as the runner's system under test: its supervisor (instances,
 * edges, logs, run context), its gateway and its database — the behaviour the
 * runner has always had, behind the TSystemUnderTest port. The shop's
 * consistency is judged by the analysis' own checks (no `analysis` override).
 */
import { SupervisorClient } from '../collectors/index.js';
import type { TPlatform } from '../platform.js';
import type { TRunnerDeps, TSystemUnderTest } from './ports.js';
import { fetchTopology } from './plan-faults.js';
import { steadyStateChecks } from './steady-state.js';

export function shopSystem(p: TPlatform, deps: TRunnerDeps): TSystemUnderTest {
  const supervisor = new SupervisorClient({ url: p.supervisorUrl });
  return {
    name: 'shop',
    entryUrl: p.gatewayUrl,
    faultUrls: { toxiproxyUrl: p.toxiproxyUrl, supervisorUrl: p.supervisorUrl },
    // the supervisor populates the proxies when it starts the shop
    prepare: async () => async () => undefined,
    applyFault: (spec, ctx) => deps.applyFault(spec, ctx),
    instances: () => supervisor.instances(),
    topology: () => fetchTopology(p.supervisorUrl),
    setRunContext: (runId) => supervisor.setContext(runId),
    supervisorLogs: true,
    steadyStateChecks: (tick, probes) => steadyStateChecks(supervisor, p.gatewayUrl, tick, probes),
    captureBaseline: () => deps.captureBaseline(p.shopDatabaseUrl),
    isSettled: (baseline) => deps.isSettled(p.shopDatabaseUrl, baseline),
  };
}
