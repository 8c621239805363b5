import { sql } from 'kysely';
import type { Db } from '../db/connect.ts';
import { type ModelRow, upsertModelRows } from './model-upsert.ts';

interface Pending<R> {
  row: ModelRow;
  settle: { resolve: (result: R) => void; reject: (error: unknown) => void }[];
}

const MAX_BATCH = 256;

/**
 * Collects writes issued while the event loop handles one round of I/O and sends them as one
 * multi-row statement once that round is over: under load, one round trip and one commit (one WAL
 * flush, with fsync on) for many token issuances instead of one each. Rows go in (model, id) order so
 * that concurrent batches lock overlapping rows in the same order and cannot deadlock. A statement
 * that fails fails every write in it, as each would have failed alone.
 */
function turnBatcher<R>(write: (rows: ModelRow[]) => Promise<Map<string, R>>, missing: R) {
  let pending = new Map<string, Pending<R>>();

  async function run(batch: Map<string, Pending<R>>) {
    const entries = [...batch.entries()].toSorted(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    try {
      const results = await write(entries.map(([, entry]) => entry.row));
      for (const [key, entry] of entries) for (const { resolve } of entry.settle) resolve(results.get(key) ?? missing);
    } catch (error) {
      for (const [, entry] of entries) for (const { reject } of entry.settle) reject(error);
    }
  }

  function dispatch() {
    const batch = pending;
    pending = new Map();
    if (batch.size > 0) void run(batch);
  }

  return {
    pending: () => pending,
    dispatch,
    schedule: () => pending.size === 0 && setImmediate(dispatch),
    full: () => pending.size >= MAX_BATCH,
  };
}

export const rowKey = (model: string, id: string) => `${model}\u0000${id}`;

/** Upserts (insert, or replace the payload of the row with that model and id). */
export function createBatchedUpsert(db: Db) {
  const batcher = turnBatcher<true>(async (rows) => {
    await upsertModelRows(db, rows).execute();
    return new Map(rows.map((row) => [rowKey(row.model, row.id), true]));
  }, true);

  return function upsert(row: ModelRow): Promise<void> {
    batcher.schedule();
    const key = rowKey(row.model, row.id);
    const entry = batcher.pending().get(key) ?? { row, settle: [] };
    // Two writes of one row in one round: the later payload wins, as it would have one after the other.
    entry.row = row;
    batcher.pending().set(key, entry);
    const done = new Promise<true>((resolve, reject) => entry.settle.push({ resolve, reject }));
    if (batcher.full()) batcher.dispatch();
    return done.then(() => undefined);
  };
}

/**
 * Inserts that succeed only where no live row holds the id (replay detection): true for the write
 * that stored its row. Of two writes of one id in one round, only the first can win.
 */
export function createBatchedInsertIfAbsent(db: Db) {
  const batcher = turnBatcher<boolean>(async (rows) => {
    const inserted = await db
      .insertInto('oidc_model')
      .values(rows)
      .onConflict((oc) =>
        oc
          .columns(['model', 'id'])
          .doUpdateSet((eb) => ({ payload: eb.ref('excluded.payload'), expires_at: eb.ref('excluded.expires_at'), updated_at: sql`now()` }))
          .where('oidc_model.expires_at', '<=', sql<Date>`now()`),
      )
      .returning(['model', 'id'])
      .execute();
    return new Map(inserted.map((row) => [rowKey(row.model, row.id), true]));
  }, false);

  return function insertIfAbsent(row: ModelRow): Promise<boolean> {
    batcher.schedule();
    const key = rowKey(row.model, row.id);
    const existing = batcher.pending().get(key);
    if (existing) return Promise.resolve(false);
    const entry: Pending<boolean> = { row, settle: [] };
    batcher.pending().set(key, entry);
    const done = new Promise<boolean>((resolve, reject) => entry.settle.push({ resolve, reject }));
    if (batcher.full()) batcher.dispatch();
    return done;
  };
}
