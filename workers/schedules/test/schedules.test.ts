/**
 * Schedules against the real Postgres and Redis: a BullMQ job scheduler
 * fires, the first firing starts a run, the next finds it active on the
 * target and is recorded as skipped; disabling stops the firings.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { createTestDatabase } from '../../../db/testing.js';
import { runs, scheduleFires } from '../../../db/schema/index.js';
import { AppError } from '../../../core/errors.js';
import { createSchedule, deleteSchedule, setScheduleEnabled, withNextFires, type TRunStarter } from '../schedules.js';
import { fireSchedule } from '../fire.js';
import { startScheduleWorker } from '../worker.js';

const connection = { host: '127.0.0.1', port: 6379, maxRetriesPerRequest: null };

let t: Awaited<ReturnType<typeof createTestDatabase>>;
let w: Awaited<ReturnType<typeof startScheduleWorker>>;
const started: string[] = [];

/** Starts a run the way the runner does (a `runs` row holding the target), so the skip rule sees it. */
function starterFor(db: typeof t.db): TRunStarter {
  return {
    async targets(kind, ref) {
      if (ref === 'missing') throw new AppError('NOT_FOUND', `no experiment ${ref}`);
      return kind === 'suite' ? ['shop', 'shop-b'] : ['shop'];
    },
    async start(_kind, ref, ctx) {
      const id = `run_${randomBytes(4).toString('hex')}`;
      await db
        .insert(runs)
        .values({ id, experimentName: ref, target: 'shop', state: 'running', trigger: 'schedule', scheduleId: ctx.scheduleId, definition: {} });
      started.push(id);
      return [id];
    },
  };
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const v = await fn();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

beforeAll(async () => {
  t = await createTestDatabase();
  w = await startScheduleWorker({
    connection,
    prefix: `fltest_${randomBytes(4).toString('hex')}`,
    queueName: 'schedules',
    db: t.db,
    starter: starterFor(t.db),
  });
});

afterAll(async () => {
  await w?.queue.obliterate({ force: true }).catch(() => undefined);
  await w?.close();
  await t?.drop();
});

describe('schedules', () => {
  it('refuses a schedule of an unknown experiment, naming the field', async () => {
    const e = await createSchedule(
      { db: t.db, queue: w.queue, starter: starterFor(t.db) },
      { name: 'x', kind: 'experiment', ref: 'missing', cron: '* * * * *' },
      'op',
    ).catch((x) => x);
    expect(e).toBeInstanceOf(AppError);
    expect((e as AppError).issues[0].path).toBe('ref');
  });

  it('fires on its cron, starts a run, skips while that run is active, stops when disabled', async () => {
    const deps = { db: t.db, queue: w.queue, starter: starterFor(t.db) };
    // Six fields: every second, so the test sees several firings quickly (allowed for tests only).
    process.env.FAULTLINE_ALLOW_SUBMINUTE_CRON = '1';
    const s = await createSchedule(
      deps,
      { name: 'every second', kind: 'experiment', ref: 'payments-latency', cron: '* * * * * *', timezone: 'Europe/Berlin' },
      'op',
    );
    delete process.env.FAULTLINE_ALLOW_SUBMINUTE_CRON;
    expect(withNextFires(s).next).toHaveLength(3);
    expect((await w.queue.getJobSchedulers()).map((j) => j.key)).toContain(s.id);

    const fires = await waitFor('a started and a skipped firing', async () => {
      const rows = await t.db.select().from(scheduleFires).where(eq(scheduleFires.scheduleId, s.id));
      return rows.some((r) => r.outcome === 'started') && rows.some((r) => r.outcome === 'skipped') ? rows : undefined;
    });
    const first = fires.find((r) => r.outcome === 'started')!;
    expect(first.runIds).toHaveLength(1);
    const skipped = fires.find((r) => r.outcome === 'skipped')!;
    expect(skipped.reason).toContain(first.runIds[0]);
    expect(skipped.runIds).toEqual([]);
    // Exactly one run was started: every later firing found it active.
    expect(fires.filter((r) => r.outcome === 'started')).toHaveLength(1);

    await setScheduleEnabled(deps, s.id, false);
    expect((await w.queue.getJobSchedulers()).map((j) => j.key)).not.toContain(s.id);
    // Let in-flight jobs settle (polled: a busy machine may take longer than any fixed sleep), then no
    // new firing may appear over two would-be ticks of the every-second cron.
    await waitFor('in-flight firings to settle', async () => {
      const c = await w.queue.getJobCounts('active', 'waiting', 'delayed', 'prioritized');
      return Object.values(c).every((n) => n === 0) ? true : undefined;
    });
    const settled = (await t.db.select().from(scheduleFires).where(eq(scheduleFires.scheduleId, s.id))).length;
    await new Promise((r) => setTimeout(r, 2200));
    const later = (await t.db.select().from(scheduleFires).where(eq(scheduleFires.scheduleId, s.id))).length;
    expect(later).toBe(settled);
    await deleteSchedule(deps, s.id);
  });

  it('starts again once the run on the target has ended, and records a duplicate delivery once', async () => {
    const deps = { db: t.db, queue: w.queue, starter: starterFor(t.db) };
    await t.db.update(runs).set({ state: 'passed', endedAt: new Date() });
    const s = await createSchedule(deps, { name: 'nightly', kind: 'suite', ref: 'ci', cron: '0 3 * * *', enabled: false }, 'op');
    const a = await fireSchedule({ db: t.db, starter: deps.starter, scheduleId: s.id, jobId: 'job-1' });
    expect(a.outcome).toBe('skipped'); // disabled
    await setScheduleEnabled(deps, s.id, true);
    const b = await fireSchedule({ db: t.db, starter: deps.starter, scheduleId: s.id, jobId: 'job-2' });
    expect(b.outcome).toBe('started');
    const dup = await fireSchedule({ db: t.db, starter: deps.starter, scheduleId: s.id, jobId: 'job-2' });
    expect(dup.recorded).toBe(false);
    const rows = await t.db.select().from(scheduleFires).where(eq(scheduleFires.scheduleId, s.id));
    expect(rows.map((r) => r.outcome).sort()).toEqual(['skipped', 'started']);
    await deleteSchedule(deps, s.id);
  });
});
