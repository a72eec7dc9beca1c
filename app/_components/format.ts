/** Small display helpers shared by pages (no I/O). */

export function verdictClass(state: string): string {
  switch (state) {
    case 'passed':
      return 'b-ok';
    case 'failed':
    case 'errored':
      return 'b-bad';
    case 'aborted':
      return 'b-warn';
    case 'queued':
      return 'b-dim';
    default:
      return 'b-run';
  }
}

export function ago(iso: string | Date | null | undefined, now = Date.now()): string {
  if (!iso) return '—';
  const t = typeof iso === 'string' ? Date.parse(iso) : iso.getTime();
  const s = Math.round((now - t) / 1000);
  const abs = Math.abs(s);
  const v = abs < 60 ? `${abs}s` : abs < 3600 ? `${Math.round(abs / 60)}m` : abs < 86400 ? `${Math.round(abs / 3600)}h` : `${Math.round(abs / 86400)}d`;
  return s >= 0 ? `${v} ago` : `in ${v}`;
}

export function dur(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${Math.round(s % 60)}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.round((s % 3600) / 60)}m`;
  const d = s / 86400;
  return Number.isInteger(d) ? `${d}d` : `${d.toFixed(1)}d`;
}

export function stamp(iso: string | Date | null | undefined): string {
  if (!iso) return '—';
  const d = typeof iso === 'string' ? new Date(iso) : iso;
  return d.toISOString().replace('T', ' ').slice(0, 19) + 'Z';
}

export const BREAKER_STATES = ['closed', 'open', 'half-open'] as const;
