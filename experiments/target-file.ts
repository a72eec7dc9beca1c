/**
 * Experiments against a target file (`target: ../target.yaml`): the file's
 * relative references (target, scenario) resolved against the experiment
 * file, and what the experiment asks checked against what the target
 * declares — each fault's edge or instance, each breaker expectation's breaker
 * (metrics.breakers), invariant names, a nemesis' kinds — so a wrong name is a field error before any run, not a failure
 * when the fault is due. Pure except for reading the target and scenario files.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { AppError, toAppError, type TFieldIssue } from '../core/errors.js';
import { yamlLineOf } from '../core/validate.js';
import { loadTarget, type TTarget } from '../targets/index.js';
import { isTargetFile, type TExperiment, type TNemesisKind } from './schema.js';

/** The acknowledged-write check of a target file, by the name experiments list it under. */
export const ACKNOWLEDGED_CHECK = 'acknowledged-writes-exist';
/** The history check of a target file (failed writes did not happen, no unknown writes), by the name experiments list it under. */
export const HISTORY_CHECK = 'history-consistent';

const NETWORK_TYPES = new Set(['latency', 'jitter', 'bandwidth', 'timeout', 'blackhole', 'reset_peer', 'slow_close', 'limit_data', 'edge_down']);
/** Process fault type → the command it needs (the removal's command is required by the target schema). */
const PROCESS_COMMAND: Record<string, 'kill' | 'pause' | 'restart'> = { kill: 'kill', pause: 'pause', restart: 'restart' };

function isPathRef(ref: string): boolean {
  return ref.includes('/') || /\.ya?ml$/.test(ref);
}

/**
 * The experiment with its target and scenario paths absolute (resolved
 * against `dir`, the experiment file's folder); a new object, the parsed
 * experiment is not changed. The shop and shipped scenario names stay as they are.
 */
export function resolveExperimentRefs(e: TExperiment, dir: string): TExperiment {
  // a bare name (`shop`, a target saved in the console) is no path: workers/targets resolveTargetFile turns it into one
  const target = isTargetFile(e.target) && isPathRef(e.target) ? path.resolve(dir, e.target) : e.target;
  const scenario = isPathRef(e.load.scenario) ? path.resolve(dir, e.load.scenario) : e.load.scenario;
  if (target === e.target && scenario === e.load.scenario) return e;
  return { ...e, target, load: { ...e.load, scenario } };
}

function globMatches(pattern: string, name: string): boolean {
  const [pf, pt] = pattern.split('->');
  const [nf, nt] = name.split('->');
  return (pf === '*' || pf === nf) && (pt === '*' || pt === nt);
}

function faultIssue(t: TTarget, type: string, target: unknown): string | undefined {
  const edges = t.edges?.source === 'listed' ? t.edges.proxies.map((p) => p.name) : undefined;
  if (NETWORK_TYPES.has(type) || type === 'partition') {
    if (!t.edges) return `the target declares no edges (edges.proxies): no network faults`;
    if (!edges) return undefined; // source: supervisor, resolved against the live system
    const wanted = Array.isArray(target) ? (target as string[]) : [String(target).replace(/#\d+$/, '')];
    const bad = wanted.filter((w) => !edges.some((e) => (type === 'partition' ? globMatches(w, e) : w === e)));
    return bad.length ? `unknown edge ${bad.map((b) => `"${b}"`).join(', ')}; the target's edges: ${edges.join(', ')}` : undefined;
  }
  if (!t.processes) return `the target declares no processes: no ${type} faults`;
  if (t.processes.kind === 'supervisor') return undefined;
  const command = PROCESS_COMMAND[type];
  if (!command) return `${type} needs a faultline supervisor (processes.kind: supervisor); the target's processes are commands`;
  if (!t.processes.commands[command]) return `the target has no processes.commands.${command}: no ${type} faults`;
  const ids = t.processes.instances.map((i) => i.id);
  return ids.includes(String(target)) ? undefined : `unknown instance "${String(target)}"; the target's instances: ${ids.join(', ')}`;
}

/**
 * Breaker expectations need a breaker mapping (`metrics.breakers`) and scrape
 * URLs or http_sd (the metrics a target run collects); a breaker named in one must
 * be among the target's `metrics.breakers.names` when the file lists them
 * (otherwise any `<from>-><to>` name the schema admits is taken on trust: the
 * mapping reports whatever names the metric's label carries).
 */
function breakerIssues(e: TExperiment, t: TTarget): TFieldIssue[] {
  if (!e.expectations.breakers.length) return [];
  const b = t.metrics?.breakers;
  if (!b) return [{ path: 'expectations.breakers', message: 'the target declares no metrics.breakers: breaker expectations cannot be judged' }];
  if (!t.metrics?.scrape.length && !t.metrics?.http_sd)
    return [
      {
        path: 'expectations.breakers',
        message: 'the target declares no metrics.scrape URLs or http_sd: breaker states are only read from scraped metrics (not from a prometheus server yet)',
      },
    ];
  const names = b.names;
  if (!names) return [];
  return e.expectations.breakers.flatMap((x, i) =>
    names.includes(x.breaker)
      ? []
      : [
          {
            path: `expectations.breakers.${i}.breaker`,
            message: `the target reports no breaker "${x.breaker}"; its metrics.breakers.names: ${names.join(', ')}`,
          },
        ],
  );
}

/**
 * The nemesis kinds a target file can take: network kinds on its edges; kill, pause and
 * HTTP aborts through a faultline supervisor; kill and pause through its commands when it
 * has them (kill needs a way back: start or restart).
 */
export function targetNemesisKinds(t: TTarget): TNemesisKind[] {
  const kinds: TNemesisKind[] = [];
  if (t.edges) kinds.push('latency', 'reset_peer', 'partition', 'cut');
  const p = t.processes;
  if (p?.kind === 'supervisor') kinds.push('kill', 'pause', 'http_abort');
  if (p?.kind === 'commands') {
    if (p.commands.kill && (p.commands.start || p.commands.restart)) kinds.push('kill');
    if (p.commands.pause) kinds.push('pause');
  }
  return kinds;
}

/** A nemesis against a target file: at least one of its kinds must be one the target can take. */
function nemesisIssues(e: TExperiment, t: TTarget): TFieldIssue[] {
  if (!e.nemesis) return [];
  const can = targetNemesisKinds(t);
  if (e.nemesis.kinds.some((k) => can.includes(k))) return [];
  return [
    {
      path: 'nemesis.kinds',
      message: `none of ${e.nemesis.kinds.join(', ')} can hit this target; it takes ${can.join(', ') || 'none (it declares no edges or processes)'}`,
    },
  ];
}

/** Field issues (no lines) of an experiment against its target file. */
export function targetIssues(e: TExperiment, t: TTarget): TFieldIssue[] {
  const issues: TFieldIssue[] = [];
  e.faults.forEach((f, i) => {
    const { type, target } = f.fault as { type: string; target: unknown };
    const problem = faultIssue(t, type, target);
    if (problem) issues.push({ path: `faults.${i}.fault.target`, message: problem });
  });
  issues.push(...breakerIssues(e, t), ...nemesisIssues(e, t));
  const known = [
    ...t.invariants.map((x) => x.name),
    ...(t.acknowledged.length ? [ACKNOWLEDGED_CHECK] : []),
    ...(t.acknowledged.some((a) => a.failed || a.unknown) ? [HISTORY_CHECK] : []),
  ];
  e.expectations.invariants.forEach((n, i) => {
    if (n !== '*' && !known.includes(n))
      issues.push({ path: `expectations.invariants.${i}`, message: `the target has no invariant "${n}"; its checks: ${known.join(', ') || 'none'}` });
  });
  if (!isPathRef(e.load.scenario))
    issues.push({
      path: 'load.scenario',
      message: `"${e.load.scenario}" is a shop scenario; a target file's load is a scenario file, by its path from the experiment file (../load.yaml), or in the console from the targets root (examples/transfers/load.yaml)`,
    });
  else if (!existsSync(e.load.scenario)) issues.push({ path: 'load.scenario', message: `no scenario file at ${e.load.scenario}` });
  return issues;
}

/**
 * Load the target file of an experiment whose references are resolved
 * (resolveExperimentRefs) and check the experiment against it; AppError
 * VALIDATION naming each field (with its line when `text` is the file's YAML).
 */
export async function checkExperimentTarget(e: TExperiment, filename: string, text?: string): Promise<TTarget> {
  let t: TTarget;
  try {
    t = (await loadTarget(e.target)).target;
  } catch (err) {
    const a = toAppError(err);
    const inner = a.issues.filter((i) => i.path !== 'target').map((i) => `${i.path}${i.line ? ` (line ${i.line})` : ''}: ${i.message}`);
    const notFound = isPathRef(e.target)
      ? `no target file at ${e.target}`
      : // a bare name that is no shipped target: a target saved in the console, which the console's runs resolve
        `no shipped target "${e.target}" (targets/${e.target}.yaml); a target saved in the console runs from the console — here, save its YAML as a file and name its path`;
    const message = a.code === 'NOT_FOUND' ? notFound : `target file ${e.target} is invalid: ${[a.message, ...inner].join('; ')}`;
    throw new AppError('VALIDATION', `${filename}: ${message}`, { issues: [{ path: 'target', message, ...lineOf(text, 'target') }] });
  }
  const issues = targetIssues(e, t);
  if (issues.length)
    throw new AppError('VALIDATION', `${filename}: does not fit target ${t.name}`, {
      issues: issues.map((i) => ({ ...i, ...lineOf(text, i.path) })),
    });
  return t;
}

function lineOf(text: string | undefined, field: string): { line?: number } {
  if (text === undefined) return {};
  const line = yamlLineOf(
    text,
    field.split('.').map((k) => (/^\d+$/.test(k) ? Number(k) : k)),
  );
  return line ? { line } : {};
}
