/**
 * Targets as the console shows them — the target files (targets/, examples/)
 * and the targets saved in the console (workers/targets/saved-targets.ts) —
 * the list, one target, and its check (workers/targets: the same
 * `checkTarget` as `faultline target check`), plus saving, editing and
 * deleting the saved ones. The view leaves out what a page has no use for
 * and should not carry to a browser: absolute server paths and databases'
 * default connection strings.
 *
 *   /targets/<id> ─▶ a target file with that id? ─▶ it
 *                 └▶ else a saved target of that name (saved names never take a file's)
 */
import { readFile } from 'node:fs/promises';
import { AppError } from '../../core/errors.js';
import {
  checkListedTarget,
  createSavedTarget,
  deleteSavedTarget,
  getSavedTarget,
  getSavedTargetSummary,
  getTarget,
  listSavedTargets,
  listTargets,
  updateSavedTarget,
  validateSavedTarget,
  type TTargetCheck,
  type TTargetSummary,
} from '../../workers/targets/index.js';
import { listedEdges, type TTarget } from '../../targets/index.js';
import { SupervisorClient } from '../../workers/collectors/index.js';
import { config, db } from './deps.js';
import type { TTopoEdge } from './topology-layout.js';

function root(): { root?: string } {
  const r = config().FAULTLINE_TARGETS_ROOT;
  return r ? { root: r } : {};
}

function processesView(p: NonNullable<TTargetSummary['target']>['processes']) {
  if (!p) return undefined;
  if (p.kind === 'supervisor') return { kind: p.kind, url: p.url, instances: [] as string[], commands: [] as { verb: string; command: string }[] };
  return {
    kind: p.kind,
    instances: p.instances.map((i) => i.id),
    commands: Object.entries(p.commands).flatMap(([verb, command]) => (command ? [{ verb, command }] : [])),
  };
}

function view(s: TTargetSummary) {
  const t = s.target;
  return {
    id: s.id,
    path: s.path,
    valid: Boolean(t),
    error: s.error,
    experiments: s.experiments,
    /** Saved in the console (no file): who saved it last, and when. */
    saved: s.saved && { createdBy: s.saved.createdBy, updatedBy: s.saved.updatedBy, updatedAt: s.saved.updatedAt.toISOString() },
    target: t && {
      name: t.name,
      description: t.description,
      entry: { url: t.entry.url, health: t.entry.health, setup: t.entry.setup.map((x) => `${x.method} ${x.path}`) },
      edges: t.edges && {
        toxiproxy: t.edges.toxiproxy,
        source: t.edges.source,
        proxies: t.edges.proxies.map((p) => ({ name: p.name, kind: p.kind, listen: p.listen, upstream: p.upstream })),
        // the listed proxies as the graph's edges (none for a supervisor's: those are fetched live)
        graph: listedEdges(t),
      },
      processes: processesView(t.processes),
      metrics: t.metrics && {
        sources: [
          ...t.metrics.scrape,
          ...(t.metrics.http_sd ? [`${t.metrics.http_sd} (http_sd)`] : []),
          ...(t.metrics.prometheus ? [`${t.metrics.prometheus} (Prometheus)`] : []),
        ],
        histogram: t.metrics.requests?.histogram,
        breakers: t.metrics.breakers ? ('preset' in t.metrics.breakers ? `preset ${t.metrics.breakers.preset}` : t.metrics.breakers.metric) : undefined,
      },
      logs: t.logs && { kind: t.logs.kind, where: t.logs.kind === 'file' ? t.logs.path : t.logs.url, idField: t.logs.id_field.join(', ') },
      databases: Object.entries(t.databases).map(([name, d]) => ({ name, urlEnv: d.url_env })),
      invariants: t.invariants.map((i) => ({ name: i.name, database: i.database, description: i.description, sql: i.sql })),
      acknowledged: t.acknowledged.map((a) => ({
        route: a.route,
        status: a.status,
        id: a.id,
        confirm: 'sql' in a.confirm ? `SQL on ${a.confirm.database}` : `GET ${a.confirm.get}`,
      })),
      settled: t.settled && { database: t.settled.database, maxMs: t.settled.max },
    },
  };
}

export type TTargetView = ReturnType<typeof view>;

/** The target files, then the targets saved in the console. */
export async function targetsList(): Promise<TTargetView[]> {
  const [files, saved] = await Promise.all([listTargets(root()), listSavedTargets(db())]);
  return [...files, ...saved].map(view);
}

/** A target file by its id, else the target saved under that name; NOT_FOUND naming neither. */
async function findTarget(id: string): Promise<TTargetSummary> {
  try {
    return await getTarget(id, root());
  } catch (e) {
    if (!(e instanceof AppError && e.code === 'NOT_FOUND')) throw e;
    return getSavedTargetSummary(db(), id).catch((x: unknown) => {
      throw x instanceof AppError && x.code === 'NOT_FOUND' ? new AppError('NOT_FOUND', `${e.message}; ${x.message}`) : x;
    });
  }
}

/**
 * One target, and the edges a supervisor lists live when the file's edges are the
 * supervisor's (the shop's): null when it does not answer (the system is not up).
 */
export async function targetDetail(id: string): Promise<TTargetView & { liveEdges?: TTopoEdge[] | null }> {
  const s = await findTarget(id);
  const t = s.target;
  if (t?.edges?.source !== 'supervisor' || t.processes?.kind !== 'supervisor') return view(s);
  const liveEdges = await new SupervisorClient({ url: t.processes.url, timeoutMs: 1500 })
    .edges()
    .then((edges) => edges.map(({ name, from, to }) => ({ name, from, to })))
    .catch(() => null);
  return { ...view(s), liveEdges };
}

export async function checkTarget(id: string): Promise<TTargetCheck> {
  return checkListedTarget(await findTarget(id));
}

/** The editor's live check of a target's YAML (the schema, and a name no target file has). */
export function validateTarget(yaml: string): Promise<TTarget> {
  return validateSavedTarget(yaml, root());
}

/** A saved target's YAML for the editor; CONFLICT for a target file (the console edits only what it saved). */
export async function savedTargetText(name: string): Promise<{ id: string; yaml: string; updatedBy: string; updatedAt: string }> {
  const s = await getSavedTarget(db(), name, root());
  return { id: s.name, yaml: s.yaml, updatedBy: s.updatedBy, updatedAt: s.updatedAt.toISOString() };
}

/**
 * A target file's text as the start of a new saved target (New target from a file): the same
 * YAML, comments included, under the name `<name>-copy` (a saved target never takes a file's name).
 */
export async function targetFileCopy(id: string): Promise<string> {
  const t = await getTarget(id, root());
  const text = await readFile(t.file, 'utf8');
  return text.replace(/^name:\s*(['"]?)([a-z0-9][a-z0-9_-]*)\1\s*$/m, (_m, _q: string, name: string) => `name: ${name}-copy`);
}

export async function createTarget(yaml: string, by: string): Promise<{ id: string }> {
  return { id: (await createSavedTarget(db(), yaml, by, root())).name };
}

export async function updateTarget(name: string, yaml: string, by: string): Promise<{ id: string }> {
  return { id: (await updateSavedTarget(db(), name, yaml, by, root())).name };
}

export function deleteTarget(name: string): Promise<{ ok: true; name: string }> {
  return deleteSavedTarget(db(), name, root());
}

/** A choice of the experiment editor's target picker: `shop`, a target file's path relative to the targets root, or a saved target's name. */
export interface TTargetChoice {
  /** What the picker writes into `target:`. */
  value: string;
  label: string;
}

/**
 * The target picker's choices: the same list as the Targets page, valid ones only, the shop first
 * as `shop`, files by their path, saved targets by their name (`target: <name>`).
 */
export async function targetChoices(): Promise<TTargetChoice[]> {
  const list = await targetsList();
  const choices = list
    .filter((t) => t.valid && t.id !== 'shop')
    .map((t) => (t.saved ? { value: t.id, label: `${t.id} (saved in the console)` } : { value: t.path, label: `${t.target?.name ?? t.id} (${t.path})` }));
  return [{ value: 'shop', label: 'shop (the bundled sample shop)' }, ...choices];
}
