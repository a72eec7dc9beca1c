import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../../db/testing.js';
import { experiments } from '../../../db/schema/index.js';
import { AppError } from '../../../core/errors.js';
import { loadSuiteFile, EXPERIMENTS_DIR, type TExperiment } from '../../../experiments/index.js';
import { platformStarter, resolveExperiment } from '../starter.js';

let t: Awaited<ReturnType<typeof createTestDatabase>>;

beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => {
  await t?.drop();
});

describe('what a schedule runs', () => {
  it('an edited copy wins over the shipped file of the same name, a run record never does; unknown names are NOT_FOUND', async () => {
    const shipped = await resolveExperiment(t.db, 'payments-latency');
    expect(shipped.name).toBe('payments-latency');
    await t.db
      .insert(experiments)
      .values({ id: 'payments-latency', name: 'payments-latency', description: 'edited', definition: { ...shipped, description: 'edited' } });
    expect((await resolveExperiment(t.db, 'payments-latency')).description).toBe('edited');
    // A row a run wrote for the shipped file (source_path set) is no copy: the file, as it is now, runs.
    await t.db
      .update(experiments)
      .set({ sourcePath: 'experiments/payments-latency.yaml', definition: { ...shipped, description: 'stale text a run recorded' } });
    expect((await resolveExperiment(t.db, 'payments-latency')).description).toBe(shipped.description);
    // A saved experiment with no file behind it runs from its row, wherever it came from.
    await t.db
      .insert(experiments)
      .values({ id: 'cli-only', name: 'cli-only', sourcePath: '/home/me/cli-only.yaml', definition: { ...shipped, name: 'cli-only' } });
    expect((await resolveExperiment(t.db, 'cli-only')).name).toBe('cli-only');
    const e = await resolveExperiment(t.db, 'no-such-experiment').catch((x) => x);
    expect(e).toBeInstanceOf(AppError);
    expect((e as AppError).code).toBe('NOT_FOUND');
    expect(((await resolveExperiment(t.db, '../../etc/passwd').catch((x) => x)) as AppError).code).toBe('NOT_FOUND');
  });

  it('a suite targets the union of its experiments and starts each in order', async () => {
    const started: { name: string; suite?: string; scheduleId: string }[] = [];
    const s = platformStarter({
      db: t.db,
      startExperiment: async (e: TExperiment, ctx) => {
        started.push({ name: e.name, suite: ctx.suite, scheduleId: ctx.scheduleId });
        return `run-${started.length}`;
      },
    });
    expect(await s.targets('suite', 'ci')).toEqual(['shop']);
    const ids = await s.start('suite', 'ci', { scheduleId: 'sch_1' });
    const suite = await loadSuiteFile(`${EXPERIMENTS_DIR}/suites/ci.yaml`);
    expect(started.map((x) => x.name)).toEqual(suite.experiments.map((x) => x.experiment.name));
    expect(ids).toHaveLength(suite.experiments.length);
    expect(started.every((x) => x.suite === 'ci' && x.scheduleId === 'sch_1')).toBe(true);
    expect(((await s.targets('suite', 'nope').catch((x) => x)) as AppError).code).toBe('NOT_FOUND');
  });
});
