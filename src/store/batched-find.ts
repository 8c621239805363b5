import type { RawBuilder } from 'kysely';
import type { Db } from '../db/connect.ts';
import { rowKey } from './batched-write.ts';

export interface FoundRow {
  payload: Record<string, unknown>;
  consumed_at: Date | null;
}

type Waiter = { resolve: (row: FoundRow | undefined) => void; reject: (error: unknown) => void };

/** Above this many (model, id) pairs a batch goes out and the next finds start another. */
const MAX_BATCH = 256;

/**
 * Finds by id, batched: every find issued while the event loop handles one round of I/O (all the
 * requests that arrived together, and oidc-provider's habit of looking one token value up as
 * AccessToken, ClientCredentials and RefreshToken at once) shares one query, sent once that round is
 * over. Under load that is one round trip for many introspections instead of one each, and profiling
 * showed round trips (pg's socket writes) as the largest cost of introspection.
 *
 * Every find still reads the database after its own request began, so a revocation committed before
 * a request started is seen by it. `live` is the same expiry condition the single-model find uses.
 */
export function createBatchedFind(db: Db, live: RawBuilder<boolean>) {
  let pending = new Map<string, Waiter[]>();

  async function run(batch: Map<string, Waiter[]>) {
    const ids = new Set<string>();
    const models = new Set<string>();
    for (const key of batch.keys()) {
      const [model, id] = key.split('\u0000') as [string, string];
      models.add(model);
      ids.add(id);
    }
    try {
      const rows = await db
        .selectFrom('oidc_model')
        .select(['model', 'id', 'payload', 'consumed_at'])
        .where('id', 'in', [...ids])
        .where('model', 'in', [...models])
        .where(live)
        .execute();
      const found = new Map(rows.map((row) => [rowKey(row.model, row.id), row]));
      for (const [key, waiters] of batch) for (const waiter of waiters) waiter.resolve(found.get(key));
    } catch (error) {
      for (const waiters of batch.values()) for (const waiter of waiters) waiter.reject(error);
    }
  }

  function dispatch() {
    const batch = pending;
    pending = new Map();
    if (batch.size > 0) void run(batch);
  }

  return function find(model: string, id: string): Promise<FoundRow | undefined> {
    if (pending.size === 0) setImmediate(dispatch);
    const key = rowKey(model, id);
    const waiters = pending.get(key) ?? [];
    pending.set(key, waiters);
    const result = new Promise<FoundRow | undefined>((resolve, reject) => waiters.push({ resolve, reject }));
    if (pending.size >= MAX_BATCH) dispatch();
    return result;
  };
}
