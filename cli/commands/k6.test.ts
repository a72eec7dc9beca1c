/**
 * The k6-operator manifest against the fields k6-operator documents
 * (api/v1alpha1/testrun_types.go: TestRunSpec, K6Script, K6Configmap, Pod,
 * Cleanup), encoded as a strict zod schema; the runners' segment flags
 * (k6-operator pkg/segmentation) against k6's syntax and striping; and the
 * `faultline k6` command end to end (manifest, merge).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { parseAllDocuments } from 'yaml';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { register } from './k6.js';
import { constantArrivalOffsets } from '../../loadtests/engine/schedule.js';
import { k6OperatorManifest, operatorSegmentFlags } from '../../loadtests/k6-adapter/manifest.js';
import { mergeK6Outputs } from '../../loadtests/k6-adapter/raw.js';
import { evenSegmentSpec, executionTuple, formatSegment, formatSequence, parseSegment, parseSegmentSequence } from '../../loadtests/segments.js';

// shared/ lies beside the checkout (as in CI's fresh clone)
const FIX = path.resolve(import.meta.dirname, '../../../shared/fixtures/k6');

// ── the documented TestRun fields (k6-operator api/v1alpha1/testrun_types.go) ──
const EnvVar = z
  .object({
    name: z.string(),
    value: z.string().optional(),
    valueFrom: z
      .object({ fieldRef: z.object({ fieldPath: z.string() }).strict() })
      .partial()
      .optional(),
  })
  .strict();
const Volume = z
  .object({ name: z.string(), persistentVolumeClaim: z.object({ claimName: z.string(), readOnly: z.boolean().optional() }).strict().optional() })
  .strict();
const VolumeMount = z
  .object({ name: z.string(), mountPath: z.string(), subPath: z.string().optional(), subPathExpr: z.string().optional(), readOnly: z.boolean().optional() })
  .strict();
const Pod = z
  .object({
    affinity: z.unknown(),
    automountServiceAccountToken: z.string(),
    env: z.array(EnvVar),
    image: z.string(),
    imagePullSecrets: z.array(z.object({ name: z.string() })),
    imagePullPolicy: z.enum(['Always', 'IfNotPresent', 'Never']),
    metadata: z
      .object({ annotations: z.record(z.string(), z.string()), labels: z.record(z.string(), z.string()) })
      .partial()
      .strict(),
    nodeSelector: z.record(z.string(), z.string()),
    tolerations: z.array(z.unknown()),
    topologySpreadConstraints: z.array(z.unknown()),
    resources: z.unknown(),
    serviceAccountName: z.string(),
    securityContext: z.unknown(),
    containerSecurityContext: z.unknown(),
    envFrom: z.array(z.unknown()),
    readinessProbe: z.unknown(),
    livenessProbe: z.unknown(),
    initContainers: z.array(z.unknown()),
    volumes: z.array(Volume),
    volumeMounts: z.array(VolumeMount),
  })
  .partial()
  .strict();
const K6Script = z
  .object({
    volumeClaim: z.object({ name: z.string(), file: z.string().optional(), readOnly: z.boolean().optional() }).strict(),
    configMap: z.object({ name: z.string(), file: z.string().optional() }).strict(),
    localFile: z.string(),
  })
  .partial()
  .strict()
  .refine((s) => Object.keys(s).length === 1, 'exactly one of configMap, volumeClaim, localFile');
const TestRunSchema = z
  .object({
    apiVersion: z.literal('k6.io/v1alpha1'),
    kind: z.literal('TestRun'),
    metadata: z
      .object({
        name: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/),
        namespace: z.string(),
        labels: z.record(z.string(), z.string()).optional(),
        annotations: z.record(z.string(), z.string()).optional(),
      })
      .strict(),
    spec: z
      .object({
        script: K6Script,
        parallelism: z.number().int().min(1),
        separate: z.boolean().optional(),
        arguments: z.string().optional(),
        ports: z.array(z.unknown()).optional(),
        initializer: Pod.optional(),
        starter: Pod.optional(),
        runner: Pod.optional(),
        // the CRD types these as strings ("true"/"false"), not booleans
        quiet: z.enum(['true', 'false']).optional(),
        paused: z.enum(['true', 'false']).optional(),
        scuttle: z.unknown().optional(),
        cleanup: z.literal('post').optional(),
        testRunId: z.string().optional(),
        token: z.string().optional(),
      })
      .strict(),
  })
  .strict();
const ConfigMapSchema = z
  .object({
    apiVersion: z.literal('v1'),
    kind: z.literal('ConfigMap'),
    metadata: z.object({ name: z.string(), namespace: z.string(), labels: z.record(z.string(), z.string()).optional() }).strict(),
    data: z.record(z.string().regex(/^[-._a-zA-Z0-9]+$/), z.string()).optional(),
    binaryData: z.record(z.string().regex(/^[-._a-zA-Z0-9]+$/), z.string()).optional(),
  })
  .strict();

const script = readFileSync(`${FIX}/script.js`, 'utf8');

describe('k6-operator TestRun manifest', () => {
  it('has only documented TestRun fields: parallelism N, script from the ConfigMap, setup data handed to every runner, per-runner results', () => {
    const [cm, tr] = k6OperatorManifest({
      name: 'checkout',
      namespace: 'load',
      segments: 4,
      scriptName: 'test.js',
      script,
      setupData: '{"users":[]}',
      resultsClaim: 'k6-results',
    });
    const run = TestRunSchema.parse(tr);
    const map = ConfigMapSchema.parse(cm);
    expect(run.spec.parallelism).toBe(4);
    expect(run.spec.script).toEqual({ configMap: { name: map.metadata.name, file: 'test.js' } });
    expect(map.data).toEqual({ 'test.js': script, 'setup-data.json': '{"users":[]}' });
    expect(map.metadata.namespace).toBe(run.metadata.namespace);
    // the operator mounts the ConfigMap at /test/ and splits arguments on spaces
    const args = run.spec.arguments!.split(' ');
    expect(args).toEqual(['-e', 'FAULTLINE_SETUP_DATA=/test/setup-data.json', '--tag', 'testid=checkout']);
    // the operator adds each runner's segment itself: a segment flag here would give every runner the same one
    expect(run.spec.arguments).not.toMatch(/execution-segment/);
    expect(run.spec.runner!.env).toEqual(expect.arrayContaining([{ name: 'K6_OUT', value: 'json=/results/points.jsonl' }]));
    expect(run.spec.runner!.volumeMounts).toEqual([{ name: 'results', mountPath: '/results', subPathExpr: '$(POD_NAME)' }]);
    expect(run.spec.runner!.volumes).toEqual([{ name: 'results', persistentVolumeClaim: { claimName: 'k6-results' } }]);
    expect(run.spec.paused).toBe('true');
  });

  it('puts a k6 archive in binaryData and leaves the results volume out when no claim is given', () => {
    const tar = new Uint8Array([1, 2, 3, 250]);
    const [cm, tr] = k6OperatorManifest({ name: 'a', segments: 2, scriptName: 'archive.tar', script: tar });
    const map = ConfigMapSchema.parse(cm);
    expect(map.binaryData).toEqual({ 'archive.tar': Buffer.from(tar).toString('base64') });
    const run = TestRunSchema.parse(tr);
    expect(run.spec.runner!.volumes).toBeUndefined();
    expect(run.metadata.namespace).toBe('default');
  });

  it('refuses bad options naming the field', () => {
    const bad = (o: Partial<Parameters<typeof k6OperatorManifest>[0]>) => {
      try {
        k6OperatorManifest({ name: 'ok', segments: 2, scriptName: 't.js', script: '', ...o });
      } catch (e) {
        return (e as { issues: { path: string }[] }).issues[0].path;
      }
      return undefined;
    };
    expect(bad({ name: 'Bad_Name' })).toBe('name');
    expect(bad({ segments: 0 })).toBe('segments');
    expect(bad({ scriptName: 'lib/shop.js' })).toBe('script');
    expect(bad({ extraArguments: ['-e', 'A=b c'] })).toBe('arguments');
    expect(bad({ setupData: 'x'.repeat(1100 * 1024) })).toBe('script');
  });

  it("the operator's per-runner segment flags are valid k6 syntax, equal faultline's segments, and stripe the whole schedule", () => {
    for (const n of [1, 2, 3, 4, 7]) {
      const flags = Array.from({ length: n }, (_, i) => operatorSegmentFlags(i + 1, n));
      const parts = flags.map(([seg, seq]) => {
        const segment = parseSegment(seg.replace('--execution-segment=', ''));
        const sequence = parseSegmentSequence(seq.replace('--execution-segment-sequence=', ''))!;
        expect(formatSequence(sequence)).toBe(evenSegmentSpec(0, n).sequence);
        return executionTuple(segment, sequence);
      });
      parts.forEach((t, i) => expect(formatSegment(t.sequence[t.index])).toBe(evenSegmentSpec(i, n).segment));
      const whole = [...constantArrivalOffsets(997, 1000, 3000)];
      expect(parts.flatMap((t) => [...constantArrivalOffsets(997, 1000, 3000, t)]).sort((a, b) => a - b)).toEqual(whole);
    }
    // as k6-operator's own test has it
    expect(operatorSegmentFlags(1, 4)).toEqual(['--execution-segment=0:1/4', '--execution-segment-sequence=0,1/4,2/4,3/4,1']);
  });
});

describe('mergeK6Outputs (reading back the runners)', () => {
  const points = readFileSync(`${FIX}/points.jsonl`, 'utf8');
  /** Split the recording as two runners would have written it, tagging their instance_id like the operator. */
  function runners(n: number): string[] {
    const out = Array.from({ length: n }, () => [] as string[]);
    let p = 0;
    for (const l of points.split('\n').filter(Boolean)) {
      const rec = JSON.parse(l);
      if (rec.type !== 'Point') for (const o of out) o.push(l);
      else {
        const i = p++ % n;
        rec.data.tags = { ...rec.data.tags, instance_id: String(i + 1) };
        out[i].push(JSON.stringify(rec));
      }
    }
    return out.map((o) => o.join('\n'));
  }

  it("judges the thresholds k6 declared once, on the merged outputs (the recording's own verdict)", () => {
    const r = mergeK6Outputs(runners(3), { expectInstances: 3 });
    expect(r.instances).toEqual(['1', '2', '3']);
    expect(r.metrics.http_reqs.values.count).toBe(210);
    // the recorded run failed shop_checkout_duration p(99)<200 (exit 99), as its handleSummary says
    const recorded = JSON.parse(readFileSync(`${FIX}/handle-summary-data.json`, 'utf8')).metrics.shop_checkout_duration.thresholds;
    const byExpr = (a: { expression: string }, b: { expression: string }) => a.expression.localeCompare(b.expression);
    expect(r.thresholds.filter((t) => t.metric === 'shop_checkout_duration').sort(byExpr)).toEqual(
      Object.entries(recorded)
        .map(([expression, v]) => ({ metric: 'shop_checkout_duration', expression, ok: (v as { ok: boolean }).ok }))
        .sort(byExpr),
    );
    expect(r.exitCode).toBe(99);
  });

  it('refuses to merge a run with a missing runner, and a file that is not k6 output', () => {
    expect(() => mergeK6Outputs(runners(3).slice(0, 2), { expectInstances: 3 })).toThrow(
      expect.objectContaining({ code: 'VALIDATION', issues: [expect.objectContaining({ message: expect.stringMatching(/2 runner\(s\).*had 3/) })] }),
    );
    expect(() => mergeK6Outputs(['hello\nworld'])).toThrow(expect.objectContaining({ issues: [expect.objectContaining({ path: 'files.0' })] }));
  });
});

describe('faultline k6 (command)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'faultline-k6cmd-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  afterEach(() => {
    process.exitCode = undefined;
    vi.restoreAllMocks();
  });
  const run = async (args: string[]) => {
    const program = new Command('faultline').exitOverride();
    register(program);
    let out = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => ((out += String(c)), true));
    await program.parseAsync(['k6', ...args], { from: 'user' });
    vi.restoreAllMocks();
    return out;
  };

  it('manifest writes the ConfigMap and the TestRun as YAML', async () => {
    writeFileSync(path.join(dir, 'setup.json'), '{"runTag":"x","users":[],"products":[]}');
    const yaml = await run([
      'manifest',
      `${FIX}/script.js`,
      '--segments',
      '3',
      '--namespace',
      'load',
      '--setup-data',
      path.join(dir, 'setup.json'),
      '--results-claim',
      'results',
    ]);
    const [cm, tr] = parseAllDocuments(yaml).map((d) => d.toJS());
    expect(ConfigMapSchema.parse(cm).data!['script.js']).toBe(script);
    expect(TestRunSchema.parse(tr)).toMatchObject({ metadata: { name: 'script', namespace: 'load' }, spec: { parallelism: 3 } });
  });

  it('manifest refuses a setup-data file that is not JSON', async () => {
    writeFileSync(path.join(dir, 'bad.json'), 'nope');
    await expect(run(['manifest', `${FIX}/script.js`, '--segments', '2', '--setup-data', path.join(dir, 'bad.json')])).rejects.toMatchObject({
      issues: [{ path: 'setup-data' }],
    });
  });

  it('merge prints one summary and sets k6 exit status 99 from the merged verdict', async () => {
    const files = [0, 1].map((i) => {
      const f = path.join(dir, `points-${i}.jsonl`);
      let p = 0;
      writeFileSync(
        f,
        readFileSync(`${FIX}/points.jsonl`, 'utf8')
          .split('\n')
          .filter((l) => l && (!l.includes('"type":"Point"') || p++ % 2 === i))
          .join('\n'),
      );
      return f;
    });
    const out = await run(['merge', ...files, '--json', path.join(dir, 'merged.json')]);
    expect(out).toMatch(/THRESHOLDS/);
    expect(out).toMatch(/shop_checkout_duration/);
    expect(process.exitCode).toBe(99);
    expect(JSON.parse(readFileSync(path.join(dir, 'merged.json'), 'utf8')).metrics.http_reqs.values.count).toBe(210);
  });
});
