/**
 * The console's table: columns declared once (header, cell, numeric
 * alignment), an empty state instead of a header over nothing.
 */
import { EmptyState } from './states.js';

export interface TColumn<T> {
  /** Header text; empty for an actions column. */
  header: React.ReactNode;
  cell: (row: T, index: number) => React.ReactNode;
  /** Right-aligned, tabular figures. @defaultValue false */
  num?: boolean;
  /** Extra class of every cell (`muted`, `mono`). */
  className?: string;
}

export function DataTable<T>({
  rows,
  columns,
  rowKey,
  empty,
  testId,
  headless,
  rowProps,
}: {
  rows: readonly T[];
  columns: readonly TColumn<T>[];
  rowKey: (row: T, index: number) => string | number;
  /** Shown instead of the table when there is no row; omitted → an empty table body. */
  empty?: React.ReactNode;
  testId?: string;
  /** No header row (key/value lists). @defaultValue false */
  headless?: boolean;
  /** Attributes of a row (data-* hooks for tests, a title). */
  rowProps?: (row: T) => Record<string, string | undefined>;
}) {
  if (rows.length === 0 && empty !== undefined) return <EmptyState>{empty}</EmptyState>;
  const cls = (c: TColumn<T>) => [c.num ? 'num' : '', c.className ?? ''].join(' ').trim() || undefined;
  return (
    <table className="t" data-testid={testId}>
      {!headless && (
        <thead>
          <tr>
            {columns.map((c, i) => (
              <th key={i} className={c.num ? 'num' : undefined}>
                {c.header}
              </th>
            ))}
          </tr>
        </thead>
      )}
      <tbody>
        {rows.map((r, i) => (
          <tr key={rowKey(r, i)} {...rowProps?.(r)}>
            {columns.map((c, k) => (
              <td key={k} className={cls(c)}>
                {c.cell(r, i)}
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
