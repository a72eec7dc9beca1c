/** summary.md: a PR-comment-sized account of a run — verdict, SLO table, breakers, violations. */
import { budgetText, counts, dur, figure, iso, newViolations, num, pct, preExistingCount, settleText, sloTarget, trailLine } from './format.js';
import type { TReport } from './schema.js';

const ICON: Record<TReport['verdict'], string> = { passed: '✅', failed: '❌', aborted: '⛔', errored: '⚠️' };

/** Markdown table cells cannot hold `|` or newlines. */
function cell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

/** Violations listed per invariant; the rest are in report.json / report.html. */
const VIOLATIONS_SHOWN = 5;
/** Trail lines shown under each listed violation (the whole trail is in report.json / report.html). */
const TRAIL_LINES_SHOWN = 8;

/** Title, description, reason, run line, settling and baseline, k6 thresholds, and the counts. */
function headerLines(r: TReport, L: string[]): void {
  const c = counts(r);
  L.push(`## ${ICON[r.verdict]} ${r.run.experiment}: ${r.verdict}`);
  L.push('');
  L.push(`${r.run.description}`);
  L.push('');
  if (r.reason) L.push(`> ${cell(r.reason)}`, '');
  L.push(
    `Run \`${r.run.id}\` · ${iso(r.run.startedAt)} · ${dur(r.run.endedAt - r.run.startedAt)} · scenario \`${r.load.scenario}\` (${r.load.engine}), ${r.load.requests} requests, ${r.load.dropped} dropped` +
      (r.run.bugs.length ? ` · bug switches: ${r.run.bugs.map((b) => `\`${b}\``).join(', ')}` : ''),
  );
  L.push('');
  const after = [
    r.settle ? settleText(r.settle) : null,
    r.baseline ? `consistency baseline before the load: ${r.baseline.findings} finding${r.baseline.findings === 1 ? '' : 's'}` : null,
  ].filter(Boolean);
  if (after.length) L.push(`After the load: ${after.join(' · ')}`, '');
  if (r.load.thresholds?.length) {
    const how = r.load.thresholdsJudged ? 'judged' : 'recorded, not judged under faults';
    L.push(`**k6 thresholds** (${how}): ${r.load.thresholds.map((t) => `${t.ok ? '✓' : '✗'} \`${t.metric}\` ${cell(t.expression)}`).join(' · ')}`, '');
  }
  L.push(
    `**SLOs** ${c.slos[0]}/${c.slos[1]} · **breakers** ${c.breakers[0]}/${c.breakers[1]} · **invariants** ${c.invariants[0]}/${c.invariants[1]} (${c.violations} violations${c.preExisting ? `, ${c.preExisting} pre-existing` : ''})`,
  );
  L.push('');
}

function faultLines(r: TReport, L: string[]): void {
  if (!r.faults.length) return;
  L.push('### Faults', '', '| fault | type | target | planned | applied → removed |', '|---|---|---|---|---|');
  for (const f of r.faults) {
    const actual =
      f.appliedAt === null
        ? 'never applied'
        : `+${dur(f.appliedAt - r.run.startedAt)} → ${f.removedAt === null ? '?' : `+${dur(f.removedAt - r.run.startedAt)}`}`;
    L.push(`| ${cell(f.name)} | ${f.type} | \`${cell(f.target)}\` | at ${dur(f.plannedAtMs)} for ${dur(f.plannedDurationMs)} | ${actual} |`);
  }
  L.push('');
}

function sloLines(r: TReport, L: string[]): void {
  if (!r.slos.length) return;
  L.push('### SLOs', '');
  L.push('| | SLO | target | client (corrected) | client (k6-style) | server | run budget used | worst burn 1m / 5m |');
  L.push('|---|---|---|---|---|---|---|---|');
  for (const s of r.slos) {
    const cc = figure(s, 'client-corrected');
    const k6 = figure(s, 'client-k6');
    const sv = figure(s, 'server');
    const d = figure(s, s.decidedBy);
    L.push(
      `| ${s.verdict === 'pass' ? '✅' : '❌'} | ${cell(s.name)} | \`${s.route}\` ${sloTarget(s)} | **${pct(cc?.sli)}** | ${pct(k6?.sli)} | ${pct(sv?.sli)} | ${budgetText(d)} | ${num(d?.worstBurn1m)} / ${num(d?.worstBurn5m)} |`,
    );
  }
  L.push('');
}

function breakerLines(r: TReport, L: string[]): void {
  if (!r.breakers.expectations.length && !r.breakers.timelines.length) return;
  L.push('### Circuit breakers', '');
  if (r.breakers.expectations.length) {
    L.push('| | breaker | during | time to open | time to close | |', '|---|---|---|---|---|---|');
    for (const b of r.breakers.expectations)
      L.push(
        `| ${b.pass ? '✅' : '❌'} | \`${b.breaker}\` | ${cell(b.fault)} | ${dur(b.timeToOpenMs)} | ${dur(b.timeToCloseMs)} (limit ${dur(b.closesWithinMs)}) | ${cell(b.message)} |`,
      );
    L.push('');
  }
  // Breakers that never tripped are summed up in one line: a PR comment stays short.
  const tripped = r.breakers.timelines.filter((t) => t.trips.length > 0);
  for (const t of tripped) {
    const probes = t.trips.filter((x) => x.from !== 'closed').length;
    L.push(
      `- \`${t.breaker}\` (${t.service}, ${t.instances.length} instance${t.instances.length === 1 ? '' : 's'}): ${t.trips.length} trip(s)${probes ? ` (${probes} after a failed half-open probe)` : ''}, ${t.unexpectedTrips} outside fault windows${t.flapping ? ', **flapping**' : ''}`,
    );
  }
  const quiet = r.breakers.timelines.length - tripped.length;
  if (quiet > 0) L.push(`- ${quiet} other breaker${quiet === 1 ? '' : 's'} stayed closed`);
  L.push('');
}

/** This run's violations, per invariant, the first few with their trail. */
function violationLines(r: TReport, L: string[]): void {
  for (const i of r.invariants) {
    const fresh = newViolations(i);
    if (!fresh.length) continue;
    L.push(`<details><summary><b>${i.name}</b>: ${fresh.length} violation(s)</summary>`, '');
    for (const v of fresh.slice(0, VIOLATIONS_SHOWN)) {
      L.push(`- \`${v.kind}\` ${cell(v.message)} — ids ${v.ids.map((x) => `\`${x}\``).join(', ')}`);
      const trail = v.trail ?? [];
      if (trail.length) {
        L.push('', '  ```');
        for (const e of trail.slice(0, TRAIL_LINES_SHOWN)) L.push(`  ${trailLine(e).replace(/\r?\n/g, ' ').replace(/```/g, "'''")}`);
        if (trail.length > TRAIL_LINES_SHOWN) L.push(`  … ${trail.length - TRAIL_LINES_SHOWN} more steps in report.json`);
        L.push('  ```', '');
      }
    }
    if (fresh.length > VIOLATIONS_SHOWN) L.push(`- … ${fresh.length - VIOLATIONS_SHOWN} more in report.json`);
    L.push('', '</details>', '');
  }
}

/** Findings from before the run, apart (they do not fail it). */
function preExistingLines(r: TReport, L: string[]): void {
  const old = r.invariants.filter((i) => preExistingCount(i) > 0);
  if (!old.length) return;
  const n = old.reduce((a, i) => a + preExistingCount(i), 0);
  L.push(`<details><summary>Pre-existing: ${n} finding(s) already there before this run (they do not fail it)</summary>`, '');
  for (const i of old) {
    const listed = i.violations.filter((v) => v.preExisting);
    for (const v of listed.slice(0, VIOLATIONS_SHOWN)) L.push(`- ${i.name} \`${v.kind}\` ${cell(v.message)}`);
    if (preExistingCount(i) > Math.min(listed.length, VIOLATIONS_SHOWN))
      L.push(`- ${i.name}: … ${preExistingCount(i) - Math.min(listed.length, VIOLATIONS_SHOWN)} more`);
  }
  L.push('', '</details>', '');
}

function consistencyLines(r: TReport, L: string[]): void {
  if (!r.invariants.length) return;
  L.push('### Consistency', '', '| | invariant | checked | violations | pre-existing |', '|---|---|---|---|---|');
  for (const i of r.invariants)
    L.push(
      `| ${i.pass ? '✅' : '❌'} | ${i.name} | ${i.checked} | ${i.error ? `error: ${cell(i.error)}` : newViolations(i).length} | ${preExistingCount(i) || ''} |`,
    );
  L.push('');
  violationLines(r, L);
  preExistingLines(r, L);
}

export function renderSummary(r: TReport): string {
  const L: string[] = [];
  headerLines(r, L);
  faultLines(r, L);
  sloLines(r, L);
  breakerLines(r, L);
  consistencyLines(r, L);
  if (r.infoOps.length) {
    const rec = r.infoOps.filter((o) => o.recovered).length;
    L.push(
      `Indeterminate operations (5xx or no answer: outcome unknown to the client): ${r.infoOps.length}, ${rec} recovered (their effect exists), ${r.infoOps.length - rec} not.`,
      '',
    );
  }
  return `${L.join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim()}\n`;
}
