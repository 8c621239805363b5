import { AsyncLocalStorage } from 'node:async_hooks';
import type { Transaction } from 'kysely';
import type { Database } from '../db/schema.ts';
import { rowKey } from './batched-write.ts';
import { type ModelRow, upsertModelRows } from './model-upsert.ts';

/**
 * The adapter's upserts of one scope, held instead of sent, for the caller to write in a statement of
 * its own (store/model-upsert.ts): the consent decision writes the provider's grant and interaction
 * result in the statement that claims the decision, or in one statement just before its transaction
 * commits. Only upserts are held; a find in the scope does not see a held row, so a scope holds what is
 * written last (a grant, a result), nothing that is read back in it.
 */
interface Hold {
  rows: Map<string, ModelRow>;
  /** Until `work` settles; a write that comes later (from something it left running) is sent as usual, not lost. */
  open: boolean;
}

const holds = new AsyncLocalStorage<Hold>();

/** Runs `work` with the adapter's upserts held; returns its result and the rows in (model, id) order, one per row (its last write). */
export async function holdUpserts<T>(work: () => Promise<T>): Promise<{ result: T; rows: ModelRow[] }> {
  const hold: Hold = { rows: new Map(), open: true };
  const result = await holds.run(hold, work).finally(() => {
    hold.open = false;
  });
  // The batched writes' order, so that statements touching the same rows lock them alike.
  const rows = [...hold.rows.entries()].toSorted(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, row]) => row);
  return { result, rows };
}

/**
 * Runs `work` in the transaction with the adapter's upserts held, then writes them in one statement
 * (several saves, one round trip); returns what `work` returned.
 */
export async function upsertingLast<T>(trx: Transaction<Database>, work: () => Promise<T>): Promise<T> {
  const { result, rows } = await holdUpserts(work);
  if (rows.length > 0) await upsertModelRows(trx, rows).execute();
  return result;
}

/** Keeps the row if an open hold is on this call chain (true), else leaves it to be sent (false). */
export function holdUpsert(row: ModelRow): boolean {
  const hold = holds.getStore();
  if (!hold?.open) return false;
  hold.rows.set(rowKey(row.model, row.id), row);
  return true;
}
