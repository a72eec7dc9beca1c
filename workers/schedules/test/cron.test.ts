import { describe, expect, it } from 'vitest';
import { cronProblem, isValidTimeZone, nextFireTimes } from '../cron.js';
import { ScheduleInputSchema } from '../schema.js';

describe('cron', () => {
  it('reads the expression in the schedule time zone, across a DST change', () => {
    // 2026-03-29 is the EU spring-forward day: 09:00 Berlin is 08:00Z before, 07:00Z after.
    const from = new Date('2026-03-27T12:00:00Z');
    const next = nextFireTimes('0 9 * * *', 'Europe/Berlin', 3, from).map((d) => d.toISOString());
    expect(next).toEqual(['2026-03-28T08:00:00.000Z', '2026-03-29T07:00:00.000Z', '2026-03-30T07:00:00.000Z']);
  });

  it('gives UTC times for a UTC schedule, strictly after `from`', () => {
    const next = nextFireTimes('*/15 * * * *', 'UTC', 2, new Date('2026-01-01T10:15:00Z'));
    expect(next.map((d) => d.toISOString())).toEqual(['2026-01-01T10:30:00.000Z', '2026-01-01T10:45:00.000Z']);
  });

  it('names what is wrong with a bad expression', () => {
    expect(cronProblem('0 9 * *')).toMatch(/expected 5 fields/);
    expect(cronProblem('61 * * * *')).toBeTruthy();
    expect(cronProblem('0 9 * * 1-5')).toBeNull();
    expect(isValidTimeZone('Europe/Berlin')).toBe(true);
    expect(isValidTimeZone('Mars/Olympus')).toBe(false);
  });

  it('a cron that fires more than once a minute is refused at the cron field', () => {
    delete process.env.FAULTLINE_ALLOW_SUBMINUTE_CRON;
    expect(cronProblem('* * * * * *')).toMatch(/more than once a minute/);
    expect(cronProblem('*/30 * * * * *')).toMatch(/more than once a minute/);
    expect(cronProblem('0,1 * * * * *')).toMatch(/more than once a minute/);
    expect(cronProblem('0 * * * * *')).toBeNull();
    expect(cronProblem('15 */5 * * * *')).toBeNull();
    expect(cronProblem('* * * * *')).toBeNull();
    // tests that must see quick firings opt in explicitly
    expect(cronProblem('* * * * * *', true)).toBeNull();
    const r = ScheduleInputSchema.safeParse({ name: 'x', kind: 'experiment', ref: 'payments-latency', cron: '* * * * * *' });
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => [i.path.join('.'), i.message.slice(0, 29)])).toEqual([['cron', 'fires more than once a minute']]);
  });

  it('schedule input errors name the field', () => {
    const r = ScheduleInputSchema.safeParse({ name: 'x', kind: 'experiment', ref: 'payments-latency', cron: '99 * * * *', timezone: 'Nowhere/City' });
    expect(r.success).toBe(false);
    const paths = r.error!.issues.map((i) => i.path.join('.'));
    expect(paths).toContain('cron');
    expect(paths).toContain('timezone');
  });
});

describe('schedule patch', () => {
  it('a patch that only disables keeps the time zone (regression: defaults in partial)', async () => {
    const { SchedulePatchSchema } = await import('../schema.js');
    expect(SchedulePatchSchema.parse({ enabled: false })).toEqual({ enabled: false });
  });
});
