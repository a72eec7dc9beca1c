/**
 * The fault ledger (db/schema/faults.ts): written before a fault is
 * applied, so whatever happens to the process that applied it, another one
 * knows what to undo.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { and, desc, eq, isNull, ne, sql } from 'drizzle-orm';
import type { TDb } from '../../db/client.js';
import { faults } from '../../db/schema/faults.js';
import type { TUndo } from '../faults/types.js';

export type TFaultRow = typeof faults.$inferSelect;

/** `flt_` + 16 hex: short enough for toxic names, random enough to never collide. */
export function newFaultId(): string {
  return `flt_${randomBytes(8).toString('hex')}`;
}

/** Who applied a fault: `hostname:pid`, so a reconciler on the same host can tell a dead holder. */
export function holderId(): string {
  return `${hostname()}:${process.pid}`;
}

export async function insertFault(
  db: TDb,
  row: { id: string; runId?: string; type: string; target: string; params: unknown; expiresAt?: Date; detached?: boolean; undo?: TUndo },
): Promise<void> {
  await db.insert(faults).values({
    id: row.id,
    ...(row.undo ? { undo: row.undo } : {}),
    runId: row.runId ?? null,
    type: row.type,
    target: row.target,
    params: row.params,
    expiresAt: row.expiresAt ?? null,
    appliedBy: row.detached ? null : holderId(),
    status: 'applying',
  });
}

export async function saveUndo(db: TDb, id: string, undo: TUndo): Promise<void> {
  await db.update(faults).set({ undo }).where(eq(faults.id, id));
}

export async function markActive(db: TDb, id: string): Promise<void> {
  await db
    .update(faults)
    .set({ status: 'active' })
    .where(and(eq(faults.id, id), isNull(faults.removedAt)));
}

export async function markRemoved(db: TDb, id: string): Promise<void> {
  await db
    .update(faults)
    .set({ status: 'removed', removedAt: new Date(), error: null })
    .where(and(eq(faults.id, id), isNull(faults.removedAt)));
}

/** Apply or removal failed; the row stays open so the reconciler (or a halt) retries the removal. */
export async function markFailed(db: TDb, id: string, error: string): Promise<void> {
  await db
    .update(faults)
    .set({ status: 'failed', error })
    .where(and(eq(faults.id, id), isNull(faults.removedAt)));
}

/**
 * Apply failed. When what it did was undone the row is closed (`removed_at`
 * set, status failed, error kept); otherwise it stays open for the reconciler.
 */
export async function markApplyFailed(db: TDb, id: string, error: string, undone: boolean): Promise<void> {
  await db
    .update(faults)
    .set({ status: 'failed', error, ...(undone ? { removedAt: new Date() } : {}) })
    .where(and(eq(faults.id, id), isNull(faults.removedAt)));
}

/** Faults not yet removed (applying, active, or failed and awaiting removal). */
export async function openFaults(db: TDb): Promise<TFaultRow[]> {
  return db.select().from(faults).where(isNull(faults.removedAt)).orderBy(faults.appliedAt);
}

/** The most recent faults, removed or not, newest first. */
export async function recentFaults(db: TDb, limit = 50): Promise<TFaultRow[]> {
  return db.select().from(faults).orderBy(desc(faults.appliedAt)).limit(limit);
}

export async function getFault(db: TDb, id: string): Promise<TFaultRow | undefined> {
  const [row] = await db.select().from(faults).where(eq(faults.id, id));
  return row;
}

/**
 * Names another open fault also holds in `undo.<key>` (a proxy two faults
 * disabled, an instance two faults paused): removing one fault must not
 * undo the other's effect.
 */
export async function claimedByOthers(db: TDb, id: string, key: 'disabledProxies' | 'pausedInstances'): Promise<Set<string>> {
  const rows = await db
    .select({ v: sql<string[] | null>`${faults.undo} -> ${key}` })
    .from(faults)
    .where(and(isNull(faults.removedAt), ne(faults.id, id)));
  const out = new Set<string>();
  for (const r of rows) for (const n of r.v ?? []) out.add(n);
  return out;
}
