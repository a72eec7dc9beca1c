/**
 * The detection matrix: every shipped experiment that `detects` a bug switch
 * runs twice on the real shop (fault proxy, supervisor, Postgres, Redis):
 * once clean (must pass) and once with its bug switch on (must fail with the
 * right finding). Prints one line per run and the wall time; exits 1 when a
 * cell is wrong. Runs two at a time.
 *
 *   npx tsx bench/analysis/bug-matrix.ts [--only payments-latency] [--concurrency 2]
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { EXPERIMENTS_DIR, listExperiments } from '../../experiments/index.js';
import type { TReport } from '../../workers/reports/index.js';
import { enqueueRun, startWorker, waitForRun } from '../../workers/index.js';
import { reports } from '../../db/schema/index.js';
import { eq } from 'drizzle-orm';
import { startRunnerFixture } from '../../workers/runner/test/helpers.js';

const arg = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};

/** The finding each bug switch must produce (docs: issue "Experiments end to end", Done when). */
const EXPECTED: Record<string, (r: TReport) => boolean> = {
  'double-charge': (r) =>
    r.invariants.some((i) => i.name === 'payment-exactly-once' && i.violations.some((v) => v.kind === 'double-capture' && v.ids.length >= 3)),
  'missing-compensation': (r) => r.invariants.some((i) => i.name === 'stock-conserved' && !i.pass),
  'breaker-disabled': (r) => r.breakers.expectations.some((b) => !b.pass) && r.slos.some((s) => s.verdict === 'fail'),
  'lost-ack': (r) => r.invariants.some((i) => i.name === 'acknowledged-orders-exist' && i.violations.some((v) => v.kind === 'lost-ack')),
  oversell: (r) => r.invariants.some((i) => i.name === 'stock-non-negative' && !i.pass),
};

async function runOne(file: string, bug: string | null): Promise<{ report: TReport | null; state: string; reason: string | null; seconds: number }> {
  const t0 = Date.now();
  const fx = await startRunnerFixture({ bugs: bug ? [bug] : [] });
  const worker = await startWorker({ platform: fx.platform, heartbeatMs: 500, staleAfterMs: 4000, sweepEveryMs: 1000, busyRetryMs: 500, log: () => {} });
  try {
    const { runId } = await enqueueRun(fx.platform, { yaml: readFileSync(file, 'utf8'), trigger: 'cli' });
    const run = await waitForRun(fx.platform, runId, { timeoutMs: 300_000 });
    const [rep] = await fx.platform.db.select().from(reports).where(eq(reports.runId, runId));
    return { report: (rep?.report as TReport) ?? null, state: run.state, reason: run.reason ?? null, seconds: (Date.now() - t0) / 1000 };
  } finally {
    await worker.stop();
    await fx.close();
  }
}

const only = arg('only');
const concurrency = Number(arg('concurrency') ?? 2);
const cells: { name: string; file: string; bug: string | null }[] = [];
for (const { file, experiment } of await listExperiments(EXPERIMENTS_DIR)) {
  if (experiment.detects.length === 0 || (only && experiment.name !== only)) continue;
  cells.push({ name: experiment.name, file: path.resolve(file), bug: null });
  for (const bug of experiment.detects) cells.push({ name: experiment.name, file: path.resolve(file), bug });
}

const started = Date.now();
let wrong = 0;
const queue = [...cells];
async function lane(delayMs: number) {
  // staggered starts: two fixtures probing free ports at the same instant can collide
  await new Promise((r) => setTimeout(r, delayMs));
  for (let c = queue.shift(); c; c = queue.shift()) {
    const r = await runOne(c.file, c.bug).catch((e: Error) => ({ report: null, state: 'harness-error', reason: e.message.split('\n')[0], seconds: 0 }));
    const ok = c.bug === null ? r.state === 'passed' : r.state === 'failed' && !!r.report && EXPECTED[c.bug]!(r.report);
    if (!ok) wrong++;
    const findings = r.report
      ? r.report.invariants
          .filter((i) => !i.pass)
          .map((i) => `${i.name}×${i.violations.length}`)
          .concat(
            r.report.breakers.expectations.filter((b) => !b.pass).map((b) => `breaker ${b.breaker}`),
            r.report.slos.filter((s) => s.verdict === 'fail').map((s) => `SLO ${s.name}`),
          )
      : [];
    console.log(
      `${ok ? 'ok  ' : 'WRONG'} ${c.name.padEnd(28)} ${(c.bug ?? 'clean').padEnd(22)} ${r.state.padEnd(8)} ${r.seconds.toFixed(0).padStart(4)} s  ${findings.join(', ') || r.reason || ''}`,
    );
  }
}
await Promise.all(Array.from({ length: concurrency }, (_, i) => lane(i * 20_000)));
console.log(`${cells.length} runs, ${wrong} wrong, ${((Date.now() - started) / 1000).toFixed(0)} s wall`);
process.exit(wrong ? 1 : 0);
