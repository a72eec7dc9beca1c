/**
 * Pre-flight check of an experiment's load scenario and targets against the
 * shipped scenarios and the shop's fixed topology (shop/config.ts), so `faultline run` / `gate` refuse an unknown
 * edge, service, instance or breaker at once, with the field and line,
 * instead of starting the shop and erroring mid-run when the fault is due.
 * The runner still resolves targets against the live shop (instance counts).
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { AppError, type TFieldIssue } from '../core/errors.js';
import { SCENARIOS_DIR } from '../loadtests/index.js';
import { yamlLineOf } from '../core/validate.js';
import type { TExperiment } from '../experiments/index.js';
import { SHOP_EDGE_LIST, SHOP_MAX_INSTANCES, SHOP_SERVICES } from '../shop/index.js';

const EDGES = SHOP_EDGE_LIST.map((e) => e.name);
const BREAKERS = SHOP_EDGE_LIST.filter((e) => e.kind === 'service').map((e) => e.name);
const SERVICES: readonly string[] = SHOP_SERVICES;
const NETWORK_TYPES = new Set(['latency', 'jitter', 'bandwidth', 'timeout', 'blackhole', 'reset_peer', 'slow_close', 'limit_data', 'edge_down']);
const INSTANCE_TYPES = new Set(['kill', 'pause', 'restart']);
const SERVICE_TYPES = new Set(['kill_percentage', 'http_abort', 'http_delay']);

function globMatches(pattern: string, name: string): boolean {
  const [pf, pt] = pattern.split('->');
  const [nf, nt] = name.split('->');
  return (pf === '*' || pf === nf) && (pt === '*' || pt === nt);
}

function edgeProblem(target: string): string | undefined {
  const m = /^(.*?)(?:#(\d+))?$/.exec(target)!;
  if (!EDGES.includes(m[1])) return `unknown edge "${m[1]}"; the shop's edges: ${EDGES.join(', ')}`;
  if (m[2] !== undefined && Number(m[2]) >= SHOP_MAX_INSTANCES)
    return `instance #${m[2]} of "${m[1]}" cannot exist (at most ${SHOP_MAX_INSTANCES} instances per service)`;
  return undefined;
}

/** Field issues (no lines) for targets the shop cannot have. */
export function shopTargetIssues(e: TExperiment): TFieldIssue[] {
  const issues: TFieldIssue[] = [];
  if (!existsSync(path.join(SCENARIOS_DIR, `${e.load.scenario}.yaml`))) {
    const shipped = readdirSync(SCENARIOS_DIR)
      .filter((f) => f.endsWith('.yaml'))
      .map((f) => f.slice(0, -5))
      .sort();
    issues.push({ path: 'load.scenario', message: `unknown scenario "${e.load.scenario}"; scenarios (loadtests/scenarios/): ${shipped.join(', ')}` });
  }
  e.faults.forEach((f, i) => {
    const path = `faults.${i}.fault.target`;
    const { type, target } = f.fault as { type: string; target: unknown };
    if (NETWORK_TYPES.has(type) && typeof target === 'string') {
      const p = edgeProblem(target);
      if (p) issues.push({ path, message: p });
    } else if (type === 'partition' && Array.isArray(target)) {
      target.forEach((t: string, j) => {
        if (!EDGES.some((n) => globMatches(t, n)))
          issues.push({ path: `${path}.${j}`, message: `"${t}" matches none of the shop's edges: ${EDGES.join(', ')}` });
      });
    } else if (INSTANCE_TYPES.has(type) && typeof target === 'string') {
      const m = /^(.*)-(\d+)$/.exec(target);
      if (!m || !SERVICES.includes(m[1]))
        issues.push({ path, message: `unknown instance "${target}"; instances are <service>-<index> with service one of ${SERVICES.join(', ')}` });
      else if (Number(m[2]) >= SHOP_MAX_INSTANCES)
        issues.push({ path, message: `instance "${target}" cannot exist (at most ${SHOP_MAX_INSTANCES} instances per service)` });
    } else if (SERVICE_TYPES.has(type) && typeof target === 'string') {
      if (!SERVICES.includes(target)) issues.push({ path, message: `unknown service "${target}"; services: ${SERVICES.join(', ')}` });
    }
  });
  (e.expectations?.breakers ?? []).forEach((b, i) => {
    if (!BREAKERS.includes(b.breaker))
      issues.push({
        path: `expectations.breakers.${i}.breaker`,
        message: `unknown breaker "${b.breaker}"; breakers (one per service-to-service edge): ${BREAKERS.join(', ')}`,
      });
  });
  return issues;
}

/** Throw AppError VALIDATION (exit 2) naming each bad target with its line in `yaml`. */
export function assertShopTargets(e: TExperiment, yaml: string, file: string): void {
  const issues = shopTargetIssues(e);
  if (issues.length === 0) return;
  for (const issue of issues)
    issue.line = yamlLineOf(
      yaml,
      issue.path.split('.').map((k) => (/^\d+$/.test(k) ? Number(k) : k)),
    );
  throw new AppError('VALIDATION', `${file}: unknown scenario or target`, { issues });
}
