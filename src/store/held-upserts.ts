import { AsyncLocalStorage } from 'node:async_hooks';
import { rowKey } from './batched-write.ts';
import type { ModelRow } from './model-upsert.ts';

/**
 * The adapter's upserts of one scope, held instead of sent, for the caller to write in a statement of
 * its own (store/model-upsert.ts): the consent decision writes the provider's grant and interaction
 * result in the statement that claims the decision, or in one statement just before its transaction
 * commits. Only upserts are held; a find in the scope does not see a held row, so a scope holds what is
 * written last (a grant, a result), nothing that is read back in it.
 */
const holds = new AsyncLocalStorage<Map<string, ModelRow>>();

/** Runs `work` with the adapter's upserts held; returns them in (model, id) order, one per row (the last write of each). */
export async function holdUpserts(work: () => Promise<unknown>): Promise<ModelRow[]> {
  const held = new Map<string, ModelRow>();
  await holds.run(held, work);
  // The batched writes' order, so that statements touching the same rows lock them alike.
  return [...held.entries()].toSorted(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, row]) => row);
}

/** Keeps the row if a hold is open on this call chain (true), else leaves it to be sent (false). */
export function holdUpsert(row: ModelRow): boolean {
  const held = holds.getStore();
  held?.set(rowKey(row.model, row.id), row);
  return held !== undefined;
}
