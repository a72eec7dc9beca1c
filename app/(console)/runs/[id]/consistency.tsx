'use client';
/**
 * Consistency after settling: each invariant with what this run broke, and,
 * apart, the findings that were already there before the load started
 * (`preExisting`, from the baseline): shown, but they do not fail the run.
 */
import { DataTable } from '../../../_components/data-table.js';
import { Panel } from '../../../_components/panel.js';
import { PassBadge } from '../../../_components/verdict-badge.js';
import type { TReport } from './run-model.js';
import { Violation } from './violation.js';

type TInvariant = TReport['invariants'][number];

/** Violations listed per invariant; the rest are in report.json. */
const SHOWN = 5;

export function Consistency({ report }: { report: TReport }) {
  const invariants = report.invariants;
  const fresh = (i: TInvariant) => i.violations.filter((v) => !v.preExisting);
  const old = invariants.flatMap((i) => i.violations.filter((v) => v.preExisting).map((v) => ({ invariant: i.name, v })));
  const oldCount = invariants.reduce((n, i) => n + (i.preExisting ?? i.violations.filter((v) => v.preExisting).length), 0);
  return (
    <>
      <Panel title="Consistency after settling" note={`${invariants.filter((i) => i.pass).length}/${invariants.length} invariants hold`} testId="consistency">
        <DataTable
          rows={invariants}
          rowKey={(i) => i.name}
          rowProps={(i) => ({ 'data-invariant': i.name })}
          empty="No invariant checked."
          columns={[
            {
              header: 'Invariant',
              cell: (i) => (
                <>
                  {i.name}
                  <div className="dim">{i.description}</div>
                </>
              ),
            },
            { header: 'Result', cell: (i) => <PassBadge pass={i.pass} yes="holds" no="violated" /> },
            { header: 'Checked', num: true, cell: (i) => i.checked },
            {
              header: 'Violations, with the trail of the ids they name',
              cell: (i) => (
                <>
                  {i.error && <div className="tone-bad">check failed: {i.error}</div>}
                  {fresh(i)
                    .slice(0, SHOWN)
                    .map((v, k) => (
                      <Violation key={k} v={v} open={k === 0} />
                    ))}
                  {fresh(i).length > SHOWN && <div className="dim">… {fresh(i).length - SHOWN} more in report.json</div>}
                  {(i.preExisting ?? 0) > 0 && fresh(i).length === 0 && <div className="dim">{i.preExisting} pre-existing, listed below</div>}
                </>
              ),
            },
          ]}
        />
      </Panel>
      {oldCount > 0 && (
        <Panel
          title="Pre-existing findings"
          note="already in the shop before this run's load started; reported, not counted against this run"
          testId="pre-existing"
        >
          {old.slice(0, 20).map(({ invariant, v }, k) => (
            <div key={k} className="pre-existing">
              <span className="dim">{invariant}</span> <Violation v={v} />
            </div>
          ))}
          {oldCount > Math.min(20, old.length) && <div className="dim">… {oldCount - Math.min(20, old.length)} more in report.json</div>}
        </Panel>
      )}
    </>
  );
}
