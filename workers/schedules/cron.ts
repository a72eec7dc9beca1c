/**
 * Cron expressions and time zones, pure: validation with a field-level
 * message and the next fire times a schedule will have.
 */
import { CronExpressionParser } from 'cron-parser';

/** Whether `tz` is an IANA zone this Node knows (Intl throws RangeError otherwise). */
export function isValidTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether crons may fire more than once a minute: only for tests that must
 * see a schedule fire several times quickly (FAULTLINE_ALLOW_SUBMINUTE_CRON=1).
 */
export function subMinuteCronAllowed(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.FAULTLINE_ALLOW_SUBMINUTE_CRON === '1';
}

/** null when valid, else a message for the `cron` field. */
export function cronProblem(expr: string, allowSubMinute = subMinuteCronAllowed()): string | null {
  const fields = expr.trim().split(/\s+/);
  if (fields.length < 5 || fields.length > 6) return `expected 5 fields (min hour day month weekday) or 6 (with seconds), got ${fields.length}`;
  try {
    const parsed = CronExpressionParser.parse(expr, { tz: 'UTC' });
    // A schedule starts a whole run: with a seconds field it could start one every second
    // (each queued behind the last). One fixed second keeps it at most once a minute.
    if (!allowSubMinute && parsed.fields.second.values.length > 1)
      return `fires more than once a minute (seconds field "${fields[0]}"); schedules run at most once a minute: use 5 fields, or one fixed second such as 0`;
    return null;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

/**
 * The next `count` fire times after `from`, reading `expr` in `tz` (so
 * `0 9 * * 1-5` in Europe/Berlin fires at 09:00 Berlin time, DST included).
 */
export function nextFireTimes(expr: string, tz: string, count: number, from: Date = new Date()): Date[] {
  const it = CronExpressionParser.parse(expr, { tz, currentDate: from });
  const out: Date[] = [];
  for (let i = 0; i < count; i++) {
    if (!it.hasNext()) break;
    out.push(it.next().toDate());
  }
  return out;
}
