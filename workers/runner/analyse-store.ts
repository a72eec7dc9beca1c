/**
 * The end of a run: analysis + report (through the `analyse` port), the
 * report and violation rows stored in one transaction, and the terminal
 * transition with its phase and verdict events, for completed runs and,
 * best effort, for runs that were stopped early.
 */
import path from 'node:path';
import { eq } from 'drizzle-orm';
import { toAppError } from '../../core/errors.js';
import { reports, violations } from '../../db/schema/index.js';
import { transitionRun, isTerminal } from './lifecycle.js';
import type { TAnalyseOutput, TFaultWindow } from './ports.js';
import type { RunContext } from './run-context.js';

type TEnded = 'completed' | 'aborted' | 'errored';

/** Analyse the run, write its report files, store the report and violations. */
export async function analyseAndStore(
  ctx: RunContext,
  ended: TEnded,
  reason: string | null,
  faults: TFaultWindow[],
): Promise<TAnalyseOutput & { dir: string }> {
  const p = ctx.p;
  const runId = ctx.runId;
  const dir = path.resolve(ctx.reportDir ?? path.join(p.reportDir, runId));
  const out = await ctx.deps.analyse({
    runId,
    experiment: ctx.experiment,
    scenario: ctx.scenario,
    startedAt: ctx.startedAt,
    endedAt: Date.now(),
    ended,
    reason,
    load: ctx.load,
    faults,
    ...(ctx.baseline ? { baseline: ctx.baseline } : {}),
    ...(ctx.settle ? { settle: ctx.settle } : {}),
    db: p.db,
    logStore: p.logStore,
    ...(ctx.sut.analysis ? { system: ctx.sut.analysis } : {}),
    reportDir: dir,
  });
  await p.db.transaction(async (tx) => {
    await tx.delete(violations).where(eq(violations.runId, runId));
    if (out.violations.length)
      await tx.insert(violations).values(out.violations.map((v) => ({ runId, kind: v.kind, name: v.name, message: v.message, evidence: v.evidence ?? {} })));
    await tx
      .insert(reports)
      .values({ runId, schemaVersion: out.schemaVersion, report: out.report, dir, files: out.files })
      .onConflictDoUpdate({
        target: reports.runId,
        set: { schemaVersion: out.schemaVersion, report: out.report, dir, files: out.files, createdAt: new Date() },
      });
  });
  return { ...out, dir };
}

/** A completed run: analysed, and ended with the analysis' verdict. */
export async function finishRun(ctx: RunContext, faults: TFaultWindow[]): Promise<void> {
  const out = await analyseAndStore(ctx, 'completed', null, faults);
  const final = out.verdict === 'passed' || out.verdict === 'failed' ? out.verdict : 'errored';
  await transitionRun(ctx.p.db, ctx.runId, final, { reason: out.reason ?? undefined, summary: out.summary });
  ctx.state = final;
  const reason = out.reason ? { reason: out.reason } : {};
  await ctx.emit({ type: 'phase', phase: final, ...reason });
  await ctx.emit({ type: 'verdict', verdict: final, ...reason, summary: out.summary, reportDir: out.dir });
}

/**
 * A run stopped early: a report of what happened until the end when there is
 * something to report (it got past the steady state or ran load), then the
 * terminal state. Faults and collectors are already stopped.
 */
export async function endStoppedRun(ctx: RunContext, ended: 'aborted' | 'errored', reason: string, faults: TFaultWindow[]): Promise<void> {
  if (isTerminal(ctx.state)) return;
  let summary: Record<string, unknown> | undefined;
  let dir: string | undefined;
  if ((ctx.state !== 'queued' && ctx.state !== 'steady_state') || ctx.load) {
    try {
      ({ summary, dir } = await analyseAndStore(ctx, ended, reason, faults));
    } catch (e) {
      await ctx.emit({ type: 'note', level: 'warn', msg: `no report for this ${ended} run: ${toAppError(e).message}` });
    }
  }
  if (await transitionRun(ctx.p.db, ctx.runId, ended, { reason, ...(summary ? { summary } : {}) })) {
    ctx.state = ended;
    await ctx.emit({ type: 'phase', phase: ended, reason });
    await ctx.emit({ type: 'verdict', verdict: ended, reason, ...(summary ? { summary } : {}), ...(dir ? { reportDir: dir } : {}) });
  }
}
