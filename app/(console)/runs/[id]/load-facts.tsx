'use client';
/** What the load was (scenario, engine, requests, settling, faults) and the scenario's k6 thresholds when the report judged them. */
import { DataTable } from '../../../_components/data-table.js';
import { dur } from '../../../_components/format.js';
import { Panel } from '../../../_components/panel.js';
import { Time } from '../../../_components/time.js';
import { PassBadge } from '../../../_components/verdict-badge.js';
import type { TReport } from './run-model.js';

interface TThreshold {
  metric: string;
  expression: string;
  ok: boolean;
}

/** The k6 thresholds' outcomes, where the report carries them (a load test judged by its scenario). */
function thresholdsOf(r: TReport): TThreshold[] {
  const t = (r.load as { thresholds?: unknown }).thresholds ?? (r as { thresholds?: unknown }).thresholds;
  return Array.isArray(t) ? t.filter((x): x is TThreshold => !!x && typeof x === 'object' && typeof x.metric === 'string' && typeof x.ok === 'boolean') : [];
}

export function Thresholds({ report }: { report: TReport }) {
  const rows = thresholdsOf(report);
  if (!rows.length) return null;
  // An experiment is judged by its SLOs, breakers and invariants; its scenario's thresholds are shown for reference only.
  const judged = (report.load as { thresholdsJudged?: boolean }).thresholdsJudged !== false;
  const held = `${rows.filter((t) => t.ok).length}/${rows.length} hold`;
  return (
    <Panel
      title="k6 thresholds"
      note={judged ? held : `${held} · for reference: not part of this run's verdict (its SLOs, breakers and invariants are)`}
      testId="thresholds"
    >
      <DataTable
        rows={rows}
        rowKey={(t, i) => `${t.metric} ${t.expression} ${i}`}
        columns={[
          { header: 'Metric', className: 'mono', cell: (t) => t.metric },
          { header: 'Threshold', className: 'mono', cell: (t) => t.expression },
          { header: 'Verdict', cell: (t) => <PassBadge pass={t.ok} /> },
        ]}
      />
    </Panel>
  );
}

export function LoadFacts({ report: r, loadTest }: { report: TReport; loadTest: boolean }) {
  const facts: [string, React.ReactNode][] = [
    ['scenario / engine', `${r.load.scenario} · ${r.load.engine}`],
    ['requests', r.load.requests],
    ['dropped arrivals', <span className={r.load.dropped ? 'tone-warn' : undefined}>{r.load.dropped}</span>],
    ['bug switches', r.run.bugs.length ? r.run.bugs.join(', ') : 'none'],
  ];
  if (r.settle)
    facts.push([
      'settling',
      <span className={r.settle.settled ? undefined : 'tone-warn'}>
        {r.settle.settled ? 'settled' : 'not settled'} after {dur(r.settle.waitedMs)} (at most {dur(r.settle.maxMs)})
        {r.settle.detail && r.settle.detail !== 'settled' ? `: ${r.settle.detail}` : ''}
      </span>,
    ]);
  if (!loadTest)
    for (const f of r.faults)
      facts.push([
        `fault ${f.name}`,
        <>
          {f.type} on <span className="mono">{f.target}</span> · {f.appliedAt ? <Time at={f.appliedAt} /> : 'never applied'} →{' '}
          {f.removedAt ? <Time at={f.removedAt} /> : 'not confirmed removed'}
        </>,
      ]);
  return (
    <Panel title="Load" testId="load-facts">
      <DataTable
        headless
        rows={facts}
        rowKey={([k]) => k}
        columns={[
          { header: '', className: 'muted', cell: ([k]) => k },
          { header: '', cell: ([, v]) => v },
        ]}
      />
    </Panel>
  );
}
