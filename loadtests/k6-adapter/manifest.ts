/**
 * The k6-operator manifest for a run split over N pods (pure):
 *
 *   ConfigMap <name>-script   the script (or a `k6 archive` tar) + setup-data.json
 *   TestRun   <name>          parallelism N ─▶ the operator starts N runners, each with
 *                             --execution-segment=(i-1)/N:i/N --execution-segment-sequence=0,1/N,…,1
 *                             (it derives them itself: pkg/segmentation NewCommandFragments),
 *                             all paused until every runner is ready, then started together
 *
 * Fields are those of k6-operator's api/v1alpha1/testrun_types.go (TestRunSpec, Pod).
 * spec.arguments is ONE string shared by every runner (split on spaces), so
 * it must not carry segment flags (every pod would run the same segment);
 * it carries what is the same everywhere: the handed-over setup data and a
 * test id tag (the JSON output is set through K6_OUT in the runner's env). Each runner writes its points into its own
 * sub-directory of the results volume (`subPathExpr: $(POD_NAME)`), which
 * `faultline k6 merge` reads back and merges into one verdict.
 */
import { AppError } from '../../core/errors.js';

/** k6-operator mounts the script ConfigMap here (types.Script Path). */
export const OPERATOR_SCRIPT_DIR = '/test/';
/** Where each runner's results volume is mounted. */
export const RESULTS_DIR = '/results';
/** ConfigMaps are limited to 1 MiB in total (Kubernetes). */
const CONFIGMAP_MAX_BYTES = 1024 * 1024;

export interface TK6ManifestOptions {
  /** TestRun name (also prefixes the ConfigMap): a DNS-1123 label. */
  name: string;
  /** @defaultValue "default" */
  namespace?: string;
  /** Number of runner pods = segments. */
  segments: number;
  /** File name of the script in the ConfigMap (`test.js`, or `archive.tar` from `k6 archive`). */
  scriptName: string;
  /** Script text, or a k6 archive's bytes. */
  script: string | Uint8Array;
  /** Setup data run once by faultline (`faultline k6 setup`), handed to every runner. */
  setupData?: string;
  /**
   * PersistentVolumeClaim the runners write their `--out json` points to
   * (ReadWriteMany when runners land on different nodes). Absent: no JSON output.
   */
  resultsClaim?: string;
  /** Runner (and initializer) image. @defaultValue the operator's default */
  image?: string;
  /** One runner per node (k6-operator `separate`). @defaultValue false */
  separate?: boolean;
  /** Extra `k6 run` arguments for every runner (no spaces inside a value: the operator splits on spaces). */
  extraArguments?: string[];
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function invalid(path: string, message: string): never {
  throw new AppError('VALIDATION', 'invalid k6 manifest options', { issues: [{ path, message }] });
}

/** The two Kubernetes objects, in apply order (ConfigMap first). */
export function k6OperatorManifest(o: TK6ManifestOptions): [Record<string, unknown>, Record<string, unknown>] {
  if (!DNS_LABEL.test(o.name) || o.name.length > 52)
    invalid('name', `"${o.name}": lowercase letters, digits and "-", at most 52 characters (runner pods are named <name>-<n>)`);
  const namespace = o.namespace ?? 'default';
  if (!DNS_LABEL.test(namespace) || namespace.length > 63) invalid('namespace', `"${namespace}" is not a Kubernetes namespace name`);
  if (!Number.isInteger(o.segments) || o.segments < 1 || o.segments > 1000) invalid('segments', `${o.segments}: a whole number from 1 to 1000`);
  if (!/^[-._a-zA-Z0-9]+$/.test(o.scriptName)) invalid('script', `"${o.scriptName}" cannot be a ConfigMap key (letters, digits, "-", "_", "." only)`);
  if (o.resultsClaim !== undefined && !DNS_LABEL.test(o.resultsClaim)) invalid('results-claim', `"${o.resultsClaim}" is not a PersistentVolumeClaim name`);
  for (const a of o.extraArguments ?? [])
    if (/\s/.test(a) || a === '') invalid('arguments', `"${a}": k6-operator splits arguments on spaces, a value cannot contain one`);

  const configMapName = `${o.name}-script`;
  const data: Record<string, string> = {};
  const binaryData: Record<string, string> = {};
  if (typeof o.script === 'string') data[o.scriptName] = o.script;
  else binaryData[o.scriptName] = Buffer.from(o.script).toString('base64');
  if (o.setupData !== undefined) data['setup-data.json'] = o.setupData;
  const size = Object.values(data).reduce((n, v) => n + Buffer.byteLength(v), 0) + Object.values(binaryData).reduce((n, v) => n + (v.length * 3) / 4, 0);
  if (size > CONFIGMAP_MAX_BYTES)
    invalid(
      'script',
      `script and setup data are ${Math.round(size / 1024)} KiB; a ConfigMap holds at most 1 MiB (use fewer setup users, or a volumeClaim script)`,
    );

  const configMap = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: configMapName, namespace, labels: { 'app.kubernetes.io/managed-by': 'faultline' } },
    ...(Object.keys(data).length ? { data } : {}),
    ...(Object.keys(binaryData).length ? { binaryData } : {}),
  };

  const args = [
    ...(o.setupData !== undefined ? ['-e', `FAULTLINE_SETUP_DATA=${OPERATOR_SCRIPT_DIR}setup-data.json`] : []),
    '--tag',
    `testid=${o.name}`,
    ...(o.extraArguments ?? []),
  ];
  const pod = (withResults: boolean) => ({
    ...(o.image ? { image: o.image } : {}),
    ...(withResults && o.resultsClaim
      ? {
          // K6_OUT, not --out in spec.arguments: the initializer passes the arguments to
          // `k6 archive`, which has no --out flag
          env: [
            { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
            { name: 'K6_OUT', value: `json=${RESULTS_DIR}/points.jsonl` },
          ],
          volumes: [{ name: 'results', persistentVolumeClaim: { claimName: o.resultsClaim } }],
          // each runner its own directory: they share one arguments string, hence one --out path
          volumeMounts: [{ name: 'results', mountPath: RESULTS_DIR, subPathExpr: '$(POD_NAME)' }],
        }
      : {}),
    metadata: { labels: { 'app.kubernetes.io/managed-by': 'faultline' } },
  });
  const testRun = {
    apiVersion: 'k6.io/v1alpha1',
    kind: 'TestRun',
    metadata: {
      name: o.name,
      namespace,
      labels: { 'app.kubernetes.io/managed-by': 'faultline' },
      annotations: {
        // what each runner will run (the operator's own flags), for humans and `faultline k6 merge`
        'faultline.dev/segments': String(o.segments),
      },
    },
    spec: {
      parallelism: o.segments,
      separate: o.separate ?? false,
      script: { configMap: { name: configMapName, file: o.scriptName } },
      arguments: args.join(' '),
      // paused until all runners are ready, then started together by the operator's starter
      paused: 'true',
      quiet: 'true',
      runner: pod(true),
      initializer: pod(false),
    },
  };
  return [configMap, testRun];
}

/**
 * The segment flags k6-operator gives runner `index` (1-based) of `total`
 * (pkg/segmentation NewCommandFragments, unreduced fractions as it writes them).
 */
export function operatorSegmentFlags(index: number, total: number): string[] {
  const part = (i: number) => (i === 0 ? '0' : i === total ? '1' : `${i}/${total}`);
  const seq = ['0', ...Array.from({ length: total - 1 }, (_, i) => `${i + 1}/${total}`), '1'];
  return [`--execution-segment=${part(index - 1)}:${part(index)}`, `--execution-segment-sequence=${seq.join(',')}`];
}
