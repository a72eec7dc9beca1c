/**
 * k6 duration strings ("1m30s", "500ms", "2h", "1.5s") to milliseconds, read
 * by the one duration parser (core/duration.ts) in its k6 syntax: Go's
 * time.ParseDuration units ns us µs ms s m h, and a bare number in
 * milliseconds as k6 reads it.
 */
import { K6_DURATION, parseDuration as parseCoreDuration } from '../core/duration.js';

/** Parse a k6 duration; returns undefined when the text is not one. */
export function parseDuration(text: string | number): number | undefined {
  return parseCoreDuration(text, K6_DURATION);
}

/** Format milliseconds the way k6 prints durations (e.g. "1m30s", "250ms"). */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  let rest = Math.round(ms);
  const h = Math.floor(rest / 3_600_000);
  rest -= h * 3_600_000;
  const m = Math.floor(rest / 60_000);
  rest -= m * 60_000;
  const s = rest / 1000;
  return `${h ? `${h}h` : ''}${h || m ? `${m}m` : ''}${Number.isInteger(s) ? s : s.toFixed(1)}s`;
}
