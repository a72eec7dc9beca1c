/** Write a run's four report files into one directory. */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseWith } from '../../core/validate.js';
import { renderHtml } from './html.js';
import { renderJunit } from './junit.js';
import { ReportSchema, type TReport } from './schema.js';
import { renderSummary } from './summary.js';

export const REPORT_FILES = ['report.json', 'junit.xml', 'summary.md', 'report.html'] as const;

/**
 * Validate `report` and write report.json, junit.xml, summary.md and
 * report.html into `dir` (created when missing). Each file is written to a
 * temporary name and renamed, so a reader never sees half a file.
 */
export async function writeReport(report: TReport, dir: string): Promise<Record<(typeof REPORT_FILES)[number], string>> {
  const r = parseWith(ReportSchema, report, 'report');
  await mkdir(dir, { recursive: true });
  const contents: Record<(typeof REPORT_FILES)[number], string> = {
    'report.json': `${JSON.stringify(r, null, 2)}\n`,
    'junit.xml': renderJunit(r),
    'summary.md': renderSummary(r),
    'report.html': renderHtml(r),
  };
  const out = {} as Record<(typeof REPORT_FILES)[number], string>;
  for (const name of REPORT_FILES) {
    const file = path.join(dir, name);
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, contents[name]);
    await rename(tmp, file);
    out[name] = file;
  }
  return out;
}

/**
 * Read back a report.json, validated (e.g. `faultline report`, the console).
 * A version-1 report (stored before the budget became the run's own) is
 * upgraded: its run budget share is recomputed from good, valid and the objective.
 */
export function parseReport(json: unknown): TReport {
  return parseWith(ReportSchema, upgradeReport(json), 'report.json');
}

/** Version 1 → 2 (pure); anything else is returned as is for the schema to judge. */
export function upgradeReport(json: unknown): unknown {
  if (!json || typeof json !== 'object' || (json as { schemaVersion?: unknown }).schemaVersion !== 1) return json;
  const r = structuredClone(json) as { schemaVersion: number; slos?: { objective?: number; figures?: Record<string, unknown>[] }[] };
  r.schemaVersion = 2;
  for (const s of r.slos ?? []) {
    for (const f of s.figures ?? []) {
      const good = Number(f.good ?? 0);
      const valid = Number(f.valid ?? 0);
      const allowedBad = (1 - Number(s.objective ?? 0) / 100) * valid;
      f.bad = valid - good;
      f.allowedBad = allowedBad;
      f.budgetConsumedPct = valid === 0 || allowedBad <= 0 ? null : ((valid - good) / allowedBad) * 100;
    }
  }
  return r;
}
