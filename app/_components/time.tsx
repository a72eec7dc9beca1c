'use client';
/**
 * Times as every page shows them: the viewer's local time with seconds, the
 * full ISO instant on hover. Rendered on the server as UTC (the server's zone
 * is not the viewer's), then switched to local time once mounted.
 */
import { useEffect, useState } from 'react';
import { localStamp, utcStamp } from './format.js';

export function Time({ at, className, relative }: { at: string | number | Date | null | undefined; className?: string; relative?: boolean }) {
  const [mounted, setMounted] = useState(false);
  useEffect(() => setMounted(true), []);
  const d = at === null || at === undefined ? null : new Date(at);
  if (!d || Number.isNaN(d.getTime())) return <span className={className}>—</span>;
  return (
    <time dateTime={d.toISOString()} title={d.toISOString()} className={className}>
      {mounted ? localStamp(d) : utcStamp(d)}
      {relative && <span className="dim"> ({ago(d)})</span>}
    </time>
  );
}

function ago(d: Date): string {
  const s = Math.round((Date.now() - d.getTime()) / 1000);
  const a = Math.abs(s);
  const v = a < 60 ? `${a}s` : a < 3600 ? `${Math.round(a / 60)}m` : a < 86400 ? `${Math.round(a / 3600)}h` : `${Math.round(a / 86400)}d`;
  return s >= 0 ? `${v} ago` : `in ${v}`;
}
