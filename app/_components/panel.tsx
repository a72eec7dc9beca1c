/** The one boxed section of every page: a header (title, dim note, actions) over its content. */

export function Panel({
  title,
  note,
  actions,
  testId,
  className,
  children,
}: {
  /** Panel heading; omitted → no header row. */
  title?: React.ReactNode;
  /** Dim text beside the title (source, refresh period, units). */
  note?: React.ReactNode;
  /** Right-aligned controls in the header (links, buttons). */
  actions?: React.ReactNode;
  testId?: string;
  className?: string;
  children?: React.ReactNode;
}) {
  return (
    <section className={className ? `panel ${className}` : 'panel'} data-testid={testId}>
      {title !== undefined && (
        <header>
          <h2>{title}</h2>
          {note !== undefined && <span className="dim">{note}</span>}
          {actions}
        </header>
      )}
      {children}
    </section>
  );
}

/** A big figure with its label (overview counters). */
export function Stat({ label, value, tone, title }: { label: string; value: React.ReactNode; tone?: 'bad' | 'warn'; title?: string }) {
  return (
    <div className="panel stat" title={title}>
      <span className="l">{label}</span>
      <span className={tone ? `v tone-${tone}` : 'v'}>{value}</span>
    </div>
  );
}
