import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../db/testing.js';
import { getDb, closeDb, type TDb } from '../../db/client.js';
import { safetyLever } from '../../db/schema/safety.js';
import { assertLeverReleased, clearLever, leverHistory, leverState, setLever } from './lever.js';

let t: Awaited<ReturnType<typeof createTestDatabase>>;
let db: TDb;

beforeAll(async () => {
  t = await createTestDatabase();
  db = t.db;
});
afterAll(async () => {
  await t?.drop();
});

describe('safety lever state', () => {
  it('starts released, engages with who/when/why, refuses while engaged, releases, and keeps the history', async () => {
    expect(await leverState(db)).toEqual({ engaged: false });
    await expect(assertLeverReleased(db, 'new runs')).resolves.toBeUndefined();

    const before = Date.now();
    const e = await setLever(db, { by: 'alice', reason: 'payments on fire' });
    expect(e.alreadyEngaged).toBe(false);
    const s = await leverState(db);
    expect(s).toMatchObject({ engaged: true, by: 'alice', reason: 'payments on fire' });
    if (!s.engaged) throw new Error('unreachable');
    expect(new Date(s.at).getTime()).toBeGreaterThanOrEqual(before - 5000);

    // A second engagement keeps the first one's who and why.
    const again = await setLever(db, { by: 'bob', reason: 'me too' });
    expect(again).toMatchObject({ alreadyEngaged: true, state: { by: 'alice', reason: 'payments on fire' } });

    await expect(assertLeverReleased(db, 'new runs')).rejects.toMatchObject({
      code: 'HALTED',
      httpStatus: 423,
      exitCode: 3,
      message: expect.stringContaining('by alice'),
    });

    expect(await clearLever(db, { by: 'carol', reason: 'fixed' })).toMatchObject({ released: true, previous: { by: 'alice' } });
    expect(await leverState(db)).toEqual({ engaged: false });
    expect(await clearLever(db, { by: 'carol' })).toMatchObject({ released: false });

    const h = await leverHistory(db);
    expect(h.map((x) => [x.action, x.by, x.reason])).toEqual([
      ['released', 'carol', 'fixed'],
      ['engaged', 'alice', 'payments on fire'],
    ]);
  });

  it('survives a new connection pool (the state is in Postgres, not in the process)', async () => {
    await setLever(db, { by: 'ops', reason: 'restart check' });
    await closeDb(t.url);
    const fresh = getDb(t.url);
    expect(await leverState(fresh)).toMatchObject({ engaged: true, by: 'ops', reason: 'restart check' });
    await clearLever(fresh, { by: 'ops' });
    db = fresh;
  });

  it('two operators engaging at once leave one engagement', async () => {
    const n = (await db.select().from(safetyLever)).length;
    const rs = await Promise.all([1, 2, 3, 4].map((i) => setLever(db, { by: `op${i}`, reason: 'race' })));
    expect(rs.filter((r) => !r.alreadyEngaged)).toHaveLength(1);
    expect((await db.select().from(safetyLever)).length).toBe(n + 1);
    await clearLever(db, { by: 'op1' });
  });

  it('refuses an empty reason or who, and strips NUL (Postgres refuses it) instead of answering 500', async () => {
    await expect(setLever(db, { by: 'x', reason: '  ' })).rejects.toMatchObject({ code: 'VALIDATION', issues: [{ path: 'reason' }] });
    await expect(setLever(db, { by: '', reason: 'r' })).rejects.toMatchObject({ code: 'VALIDATION', issues: [{ path: 'by' }] });
    await expect(setLever(db, { by: 'x', reason: 'r'.repeat(1001) })).rejects.toMatchObject({ code: 'VALIDATION', issues: [{ path: 'reason' }] });
    const r = await setLever(db, { by: 'x\u0000y', reason: 'a\u0000b' });
    expect(r.state).toMatchObject({ by: 'xy', reason: 'ab' });
    await clearLever(db, { by: 'x' });
  });
});
