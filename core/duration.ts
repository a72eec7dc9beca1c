/**
 * The one duration format of faultline (issue 11): text such as `500ms`,
 * `1m30s`, `2h`, `30d` to milliseconds. Two syntaxes share the parser and
 * differ only where they must:
 *
 * - `FAULTLINE_DURATION` (experiment files, schedules, CLI flags): units
 *   ms s m h d; a bare number is **seconds** (`quiescence: 35`).
 * - `K6_DURATION` (k6 fields of scenario files: `duration`, `timeUnit`,
 *   stages): Go's time.ParseDuration units ns us µs ms s m h, as k6 reads
 *   them; a bare number is **milliseconds**, as k6 reads it.
 *
 * Both accept compound values (`1m30s`, `1h5m`) and decimals (`1.5s`).
 */

/** How a duration text is read. */
export interface TDurationSyntax {
  /** Name used in error messages. */
  name: string;
  /** Milliseconds per unit, by unit suffix. */
  units: Readonly<Record<string, number>>;
  /** Unit of a bare number (`12`). */
  bare: 'ms' | 's';
  /** Examples for error messages. */
  examples: string;
}

export const FAULTLINE_DURATION: TDurationSyntax = {
  name: 'duration',
  units: { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 },
  bare: 's',
  examples: '"500ms", "10s", "1m30s", "30d"',
};

export const K6_DURATION: TDurationSyntax = {
  name: 'k6 duration',
  units: { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 },
  bare: 'ms',
  examples: '"500ms", "30s", "1m30s", "2h"',
};

const patterns = new WeakMap<TDurationSyntax, RegExp>();
function partPattern(syntax: TDurationSyntax): RegExp {
  let re = patterns.get(syntax);
  if (!re) {
    // longest unit first so "ms" is not read as "m" followed by garbage
    const units = Object.keys(syntax.units).sort((a, b) => b.length - a.length);
    re = new RegExp(`(\\d+(?:\\.\\d+)?)(${units.join('|')})`, 'y');
    patterns.set(syntax, re);
  }
  return re;
}

/**
 * Parse a duration to milliseconds (rounded to whole ms for the faultline
 * syntax; k6's sub-millisecond units keep their fraction).
 * @returns `undefined` when the value is not a duration of that syntax.
 */
export function parseDuration(value: string | number, syntax: TDurationSyntax = FAULTLINE_DURATION): number | undefined {
  const bareMs = syntax.bare === 's' ? 1000 : 1;
  const round = (ms: number) => (syntax === K6_DURATION ? ms : Math.round(ms));
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? round(value * bareMs) : undefined;
  const s = value.trim();
  if (s === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(s)) return round(Number(s) * bareMs);
  const re = partPattern(syntax);
  let total = 0;
  let pos = 0;
  while (pos < s.length) {
    re.lastIndex = pos;
    const m = re.exec(s);
    if (!m) return undefined;
    total += Number(m[1]) * syntax.units[m[2]];
    pos = re.lastIndex;
  }
  return Number.isFinite(total) ? round(total) : undefined;
}

/** The message for a value that is not a duration of `syntax`. */
export function durationError(value: unknown, syntax: TDurationSyntax = FAULTLINE_DURATION): string {
  return `expected a ${syntax.name} like ${syntax.examples} (got ${JSON.stringify(value)})`;
}

/** Milliseconds for display: `90000` → `1m30s`, `250` → `250ms`, `86400000` → `1d`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const parts: string[] = [];
  let rest = Math.round(ms);
  for (const [u, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) parts.push(`${n}${u}`);
    rest -= n * size;
  }
  if (rest > 0) parts.push(`${rest}ms`);
  return parts.join('');
}
