/**
 * Load tests on their own: the shipped scenarios, and a run of one without
 * faults. Such a run goes through the runner like any experiment (a
 * "baseline" experiment named `load-<scenario>`), so it gets the same live
 * charts, logs and report; its SLO is the availability of the scenario's
 * main route.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AppError } from '../../core/errors.js';
import { formatDuration, loadScenarioFile, parseDuration, type TScenario } from '../../loadtests/index.js';
import { parseExperiment } from '../../experiments/index.js';
import { startExperimentRun } from './runs.js';

const SCENARIO_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../loadtests/scenarios');

export interface TScenarioSummary {
  name: string;
  description: string;
  executor: string;
  shape: string;
  mix: Record<string, number>;
  thresholds: Record<string, string[]>;
  error?: string;
}

/** Scenario durations stay as k6 writes them ("30s"); shown back in the same form. */
function d(v: unknown): string {
  const ms = parseDuration(v as string | number);
  return ms === undefined ? String(v) : formatDuration(ms);
}

function shape(s: TScenario): string {
  const l = s.load as Record<string, unknown> & { executor: string };
  const stages = (l.stages as { duration: string | number; target: number }[] | undefined) ?? [];
  if (l.executor === 'constant-arrival-rate') return `${l.rate} req per ${d(l.timeUnit)} for ${d(l.duration)}`;
  if (l.executor === 'constant-vus') return `${l.vus} VUs for ${d(l.duration)}`;
  const start = l.executor === 'ramping-vus' ? `${l.startVUs ?? 0} VUs` : `${l.startRate ?? 0}/${d(l.timeUnit)}`;
  return `${start}, ${stages.map((st) => `${d(st.duration)}→${st.target}`).join(', ')}`;
}

export async function listScenarios(dir = SCENARIO_DIR): Promise<TScenarioSummary[]> {
  const files = (await readdir(dir).catch(() => [])).filter((f) => /\.ya?ml$/.test(f)).sort();
  return Promise.all(
    files.map(async (f) => {
      try {
        const s = await loadScenarioFile(path.join(dir, f));
        return {
          name: s.name,
          description: s.description ?? '',
          executor: s.load.executor,
          shape: shape(s),
          mix: Object.fromEntries(Object.entries(s.mix).filter(([, w]) => w > 0)),
          thresholds: Object.fromEntries(Object.entries(s.thresholds).map(([k, v]) => [k, v.map((t) => (typeof t === 'string' ? t : t.threshold))])),
        };
      } catch (e) {
        return { name: f.replace(/\.ya?ml$/, ''), description: '', executor: '?', shape: '', mix: {}, thresholds: {}, error: (e as Error).message };
      }
    }),
  );
}

/** Start a fault-free run of a scenario; `segments` > 1 splits its load over the workers' load queue. */
export async function runScenario(name: string, segments?: number) {
  const all = await listScenarios();
  const s = all.find((x) => x.name === name);
  if (!s)
    throw new AppError('VALIDATION', 'invalid load test', {
      issues: [{ path: 'scenario', message: `no scenario "${name}" (known: ${all.map((x) => x.name).join(', ')})` }],
    });
  if (s.error) throw new AppError('VALIDATION', `scenario ${name} is invalid: ${s.error}`);
  const route = (s.mix.checkout ?? 0) > 0 ? 'POST /checkout' : 'GET /products';
  const yaml = [
    `name: load-${name.toLowerCase().replace(/[^a-z0-9-]/g, '-')}`,
    `description: Load test of scenario ${name} on its own, no faults.`,
    'load:',
    `  scenario: ${name}`,
    ...(segments !== undefined && segments > 1 ? [`  segments: ${segments}`] : []),
    'steady_state:',
    '  slos:',
    '    - name: availability',
    `      route: ${route}`,
    '      sli: availability',
    '      objective: 99',
    'quiescence: 5s',
    'tags: [loadtest]',
    '',
  ].join('\n');
  return startExperimentRun(parseExperiment(yaml, `load-${name}.yaml`), { trigger: 'console' });
}
