/**
 * `faultline k6 …`: k6 spread over several instances (execution segments).
 *
 *   k6 setup <scenario> --base-url URL --out setup.json   setup once, for every instance
 *   k6 manifest <script> --segments N [--setup-data setup.json] [--results-claim pvc]
 *        ─▶ ConfigMap + k6-operator TestRun (YAML on stdout or --out)
 *   k6 merge <points.jsonl…> [--scenario file] [--segments N]
 *        ─▶ one k6-style summary, thresholds judged once, k6's exit status (0 / 99)
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Command } from 'commander';
import { stringify } from 'yaml';
import { AppError } from '../../core/errors.js';
import { loadConfig } from '../../core/config.js';
import { formatSummary, k6OperatorManifest, k6SetupData, loadScenarioFile, mergeK6Outputs, runSetup } from '../../loadtests/index.js';
import { resolveScenarioArg } from './load.js';

function flagError(field: string, message: string): AppError {
  return new AppError('VALIDATION', 'invalid flags', { issues: [{ path: field, message }] });
}

function positiveInt(field: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw flagError(field, `"${v}" is not a positive whole number`);
  return n;
}

async function readOrFail(file: string, field: string, encoding: 'utf8' | null = 'utf8'): Promise<string | Buffer> {
  try {
    return encoding ? await readFile(file, encoding) : await readFile(file);
  } catch (e) {
    throw new AppError('NOT_FOUND', `cannot read ${file}`, {
      issues: [{ path: field, message: `${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` }],
    });
  }
}

async function emit(text: string, out: string | undefined): Promise<void> {
  if (out) await writeFile(out, text);
  else process.stdout.write(text);
}

export function register(program: Command): void {
  const k6 = program.command('k6').description("k6 over several instances: setup once, k6-operator manifest, merge the instances' outputs");

  k6.command('setup')
    .description("run a scenario's setup once (users, products) and write the data every k6 instance gets (FAULTLINE_SETUP_DATA)")
    .argument('<scenario>', 'scenario YAML file, or the name of a shipped one')
    .option('--base-url <url>', "shop gateway URL (default: the scenario's baseUrl, else SHOP_GATEWAY_URL)")
    .option('--out <file>', 'write the JSON here (default: stdout)')
    .action(async (file: string, o: { baseUrl?: string; out?: string }) => {
      if (o.baseUrl !== undefined && !URL.canParse(o.baseUrl)) throw flagError('base-url', `"${o.baseUrl}" is not a URL`);
      const s = await loadScenarioFile(resolveScenarioArg(file));
      const baseUrl = o.baseUrl ?? s.baseUrl ?? loadConfig().SHOP_GATEWAY_URL;
      const data = await runSetup(s, { baseUrl });
      await emit(`${JSON.stringify(k6SetupData(data, `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`))}\n`, o.out);
    });

  k6.command('manifest')
    .description('write the k6-operator TestRun (parallelism N; the operator gives each runner its execution segment) and the ConfigMap holding the script')
    .argument('<script>', 'k6 script (.js) or a `k6 archive` tar')
    .requiredOption('--segments <n>', 'number of runner pods (= execution segments)')
    .option('--name <name>', 'TestRun name (default: from the script file name)')
    .option('--namespace <ns>', 'Kubernetes namespace', 'default')
    .option('--setup-data <file>', 'setup data from `faultline k6 setup`, handed to every runner (setup runs once)')
    .option('--results-claim <pvc>', 'PersistentVolumeClaim each runner writes its JSON points to (for `faultline k6 merge`)')
    .option('--image <image>', "runner image (default: the operator's)")
    .option('--separate', 'one runner per node')
    .option('--out <file>', 'write the YAML here (default: stdout)')
    .action(
      async (
        script: string,
        o: { segments: string; name?: string; namespace: string; setupData?: string; resultsClaim?: string; image?: string; separate?: boolean; out?: string },
      ) => {
        const segments = positiveInt('segments', o.segments)!;
        const base = path.basename(script);
        const isArchive = base.endsWith('.tar');
        const body = await readOrFail(script, 'script', isArchive ? null : 'utf8');
        let setupData: string | undefined;
        if (o.setupData) {
          setupData = (await readOrFail(o.setupData, 'setup-data')) as string;
          try {
            JSON.parse(setupData);
          } catch {
            throw flagError('setup-data', `${o.setupData} is not JSON (write it with faultline k6 setup)`);
          }
        }
        const name =
          o.name ??
          base
            .replace(/\.(js|tar)$/, '')
            .toLowerCase()
            .replace(/[^a-z0-9-]+/g, '-')
            .replace(/^-+|-+$/g, '');
        const docs = k6OperatorManifest({
          name,
          namespace: o.namespace,
          segments,
          scriptName: base,
          script: isArchive ? new Uint8Array(body as Buffer) : (body as string),
          setupData,
          resultsClaim: o.resultsClaim,
          image: o.image,
          separate: o.separate,
        });
        await emit(docs.map((d) => stringify(d, { lineWidth: 0 })).join('---\n'), o.out);
      },
    );

  k6.command('merge')
    .description("merge the JSON outputs (--out json) of a run's k6 instances into one summary; thresholds judged once on the merged data")
    .argument('<files...>', 'one --out json file per instance')
    .option('--scenario <scenario>', 'scenario whose thresholds to judge (default: the thresholds k6 declared in the outputs)')
    .option('--segments <n>', "the run's number of instances: refuse to merge when runners are missing (k6-operator instance_id tags)")
    .option('--json <file>', 'write the merged result as JSON')
    .action(async (files: string[], o: { scenario?: string; segments?: string; json?: string }) => {
      const expectInstances = positiveInt('segments', o.segments);
      const texts = await Promise.all(files.map((f, i) => readOrFail(f, `files.${i}`) as Promise<string>));
      const scenario = o.scenario ? await loadScenarioFile(resolveScenarioArg(o.scenario)) : undefined;
      const merged = mergeK6Outputs(texts, { scenario, expectInstances });
      const { raw: _raw, ...result } = merged;
      process.stdout.write(formatSummary(result, { scenario: scenario?.name }));
      if (o.json) await writeFile(o.json, JSON.stringify(result, null, 2));
      process.exitCode = result.exitCode;
    });
}
