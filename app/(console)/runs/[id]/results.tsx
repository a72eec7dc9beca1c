'use client';
/** A run's judged results: SLOs, breaker expectations, load facts, consistency (chaos-only panels left out for a load test). */
import { DataTable } from '../../../_components/data-table.js';
import { dur } from '../../../_components/format.js';
import { Panel } from '../../../_components/panel.js';
import { EmptyState, ErrorBox, Loading } from '../../../_components/states.js';
import { PassBadge } from '../../../_components/verdict-badge.js';
import type { TRunView } from '../../../_lib/runs.js';
import { Consistency } from './consistency.js';
import { LoadFacts, Thresholds } from './load-facts.js';
import { StoredViolation } from './violation.js';
import type { TReport } from './run-model.js';

const pct = (v: number | null | undefined, d = 2) => (v === null || v === undefined ? '—' : `${v.toFixed(d)}%`);
const num = (v: number | null | undefined, d = 1) => (v === null || v === undefined ? '—' : v.toFixed(d));

export function Results({ view, terminal, loadTest }: { view: TRunView; terminal: boolean; loadTest: boolean }) {
  const r = view.report;
  if (!r)
    return (
      <Panel title="Verdict">
        {view.reportError ? (
          <ErrorBox error={`report unreadable: ${view.reportError}`} />
        ) : terminal && (view.run.state === 'aborted' || view.run.state === 'errored') ? (
          <EmptyState>No report for this run{view.run.reason ? `: it ended ${view.run.state} (${view.run.reason})` : ''}.</EmptyState>
        ) : terminal ? (
          <Loading what="report" />
        ) : (
          <EmptyState>
            {loadTest
              ? 'Thresholds, SLOs and consistency checks are judged after the load.'
              : 'SLOs, breaker expectations and consistency checks are judged after recovery.'}
          </EmptyState>
        )}
        {view.violations.map((v) => (
          <StoredViolation key={v.id} {...v} />
        ))}
      </Panel>
    );
  return (
    <>
      <Thresholds report={r} />
      <SloTable report={r} runId={view.run.id} />
      <div className={loadTest ? undefined : 'grid2'}>
        {!loadTest && <BreakerExpectations report={r} />}
        <LoadFacts report={r} loadTest={loadTest} />
      </div>
      <Consistency report={r} />
    </>
  );
}

function SloTable({ report, runId }: { report: TReport; runId: string }) {
  return (
    <Panel
      title="SLOs"
      note="budget: share of this run's allowed bad events used; burn rate = multiples of the sustainable rate"
      actions={<Downloads runId={runId} />}
      testId="slo-table"
    >
      <DataTable
        rows={report.slos}
        rowKey={(s) => s.name}
        empty="No SLO."
        columns={[
          { header: 'SLO', cell: (s) => s.name },
          { header: 'Route', className: 'mono', cell: (s) => s.route },
          { header: 'Objective', cell: (s) => `${s.objective}% ${s.sli === 'latency' ? `< ${s.thresholdMs} ms` : 'available'}` },
          { header: 'Verdict', cell: (s) => <PassBadge pass={s.verdict === 'pass'} /> },
          { header: 'SLI', num: true, cell: (s) => pct(decided(s)?.sli, 3) },
          {
            header: 'Budget consumed',
            num: true,
            cell: (s) => <span className={(decided(s)?.budgetConsumedPct ?? 0) >= 100 ? 'tone-bad' : undefined}>{pct(decided(s)?.budgetConsumedPct, 1)}</span>,
          },
          { header: 'Worst burn 1m', num: true, cell: (s) => (decided(s)?.worstBurn1m == null ? '—' : `${num(decided(s)?.worstBurn1m)}×`) },
          { header: 'Decided by', className: 'muted', cell: (s) => s.decidedBy },
          {
            header: 'Other sources',
            className: 'muted',
            cell: (s) =>
              s.figures
                .filter((x) => x.source !== s.decidedBy)
                .map((x) => `${x.source} ${pct(x.sli, 2)}`)
                .join(' · '),
          },
        ]}
      />
    </Panel>
  );
}

function decided(s: TReport['slos'][number]) {
  return s.figures.find((x) => x.source === s.decidedBy);
}

function BreakerExpectations({ report }: { report: TReport }) {
  const odd = report.breakers.timelines.filter((t) => t.flapping || t.unexpectedTrips);
  return (
    <Panel title="Breaker expectations" testId="breaker-expectations">
      <DataTable
        rows={report.breakers.expectations}
        rowKey={(_, i) => i}
        rowProps={(b) => ({ title: b.message })}
        empty="No breaker expectation in this experiment."
        columns={[
          { header: 'Breaker', className: 'mono', cell: (b) => b.breaker },
          { header: 'During', cell: (b) => b.fault },
          {
            header: 'Result',
            cell: (b) => (
              <>
                <PassBadge pass={b.pass} /> <span className="muted">{b.message}</span>
              </>
            ),
          },
          {
            header: 'Opened after',
            num: true,
            cell: (b) => (
              <>
                {dur(b.timeToOpenMs)} <span className="dim">/ {dur(b.opensWithinMs)}</span>
              </>
            ),
          },
          {
            header: 'Closed after',
            num: true,
            cell: (b) => (
              <>
                {dur(b.timeToCloseMs)} <span className="dim">/ {dur(b.closesWithinMs)}</span>
              </>
            ),
          },
        ]}
      />
      {odd.length > 0 && (
        <div className="tone-warn note">
          {odd.map((t) => `${t.breaker}: ${t.unexpectedTrips} trip(s) outside fault windows${t.flapping ? ', flapping' : ''}`).join(' · ')}
        </div>
      )}
    </Panel>
  );
}

function Downloads({ runId }: { runId: string }) {
  return (
    <span className="row" data-testid="downloads">
      {(['json', 'junit', 'md', 'html'] as const).map((f) => (
        <a key={f} className="btn" href={`/api/runs/${runId}/report/${f}`} download>
          {f === 'md' ? 'Markdown' : f === 'junit' ? 'JUnit' : f.toUpperCase()}
        </a>
      ))}
    </span>
  );
}
