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

/** `YYYY-MM-DD HH:MM:SS` in the viewer's time zone (the one time format of the console). */
export function localStamp(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** `YYYY-MM-DD HH:MM:SSZ` (UTC): what the server renders before the viewer's zone is known. */
export function utcStamp(d: Date): string {
  return d.toISOString().replace('T', ' ').slice(0, 19) + 'Z';
}

/** Time of day with milliseconds in the viewer's zone (log lines, trails). */
export function clock(d: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

export const BREAKER_STATES = ['closed', 'open', 'half-open'] as const;

/**
 * A fault target as text: an edge name as is, a partition's list of edges
 * (stored as a JSON array) joined, anything else as `key value` pairs.
 */
export function targetLabel(t: unknown): string {
  let v = t;
  if (typeof t === 'string' && /^[[{]/.test(t.trim())) {
    try {
      v = JSON.parse(t);
    } catch {
      return t;
    }
  }
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return v.map(targetLabel).join(' + ');
  if (v && typeof v === 'object') return paramsLabel(v);
  return v === null || v === undefined ? '—' : String(v);
}

/** A fault's size (its params) as `name value` pairs; millisecond fields as durations. */
export function paramsLabel(p: unknown): string {
  if (!p || typeof p !== 'object') return '';
  return Object.entries(p as Record<string, unknown>)
    .filter(([, v]) => v !== undefined && v !== null)
    .map(([k, v]) =>
      typeof v === 'number' && /Ms$/.test(k) ? `${k.replace(/Ms$/, '')} ${dur(v)}` : `${k} ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`,
    )
    .join(' · ');
}
